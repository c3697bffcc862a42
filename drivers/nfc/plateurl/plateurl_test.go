package plateurl

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/omo-edge/edge-agent/drivers/nfc/ndef"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
)

var (
	secret = []byte("example store secret 0123456789")
	other  = []byte("another store's secret 98765432")
)

func sign(t testing.TB, base, plate string, n uint64) string {
	t.Helper()
	u, err := Sign(base, plate, n, secret)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRoundTrip(t *testing.T) {
	for _, base := range []string{
		"https://c.example.com/t", "https://c.example.com/t?", "https://c.example.com/t?a=1&",
		"https://c.example.com/t?a=1&b=%20x#frag", "http://10.0.0.1:8080/coupon/", "https://c.example.com/t#f?p=1",
	} {
		u := sign(t, base, "plate-7", 1234)
		c, err := Verify(u, secret)
		if err != nil || c != (Claims{"plate-7", 1234}) {
			t.Errorf("%s: Verify(%s) = %v, %v", base, u, c, err)
		}
		if !strings.HasPrefix(u, strings.SplitN(base, "#", 2)[0]) {
			t.Errorf("%s: base not kept byte for byte: %s", base, u)
		}
	}
}

func TestRejects(t *testing.T) {
	good := sign(t, "https://c.example.com/t", "plate-1", 42)
	macOf := func(u string) string { return u[strings.LastIndex(u, "m=")+2:] }
	cases := []struct {
		name string
		url  string
		sec  []byte
		want error
	}{
		{"wrong secret", good, other, ErrBadMAC},
		{"counter changed", strings.Replace(good, "c=42", "c=43", 1), secret, ErrBadMAC},
		{"plate changed", strings.Replace(good, "p=plate-1", "p=plate-2", 1), secret, ErrBadMAC},
		{"forged MAC", strings.Replace(good, macOf(good), "AAAAAAAAAAAAAAAAAAAAAA", 1), secret, ErrBadMAC},
		{"one bit of MAC flipped", good[:len(good)-5] + string(good[len(good)-5]^1) + good[len(good)-4:], secret, ErrBadMAC},
		{"MAC of another coupon", strings.Replace(good, macOf(good), macOf(sign(t, "https://c.example.com/t", "plate-1", 41)), 1), secret, ErrBadMAC},
		{"no query", "https://c.example.com/t", secret, ErrMalformed},
		{"no MAC", strings.Replace(good, "&m=", "&x=", 1), secret, ErrMalformed},
		{"two counters", good + "&c=43", secret, ErrMalformed},
		{"leading zero", strings.Replace(good, "c=42", "c=042", 1), secret, ErrMalformed},
		{"plus sign", strings.Replace(good, "c=42", "c=+42", 1), secret, ErrMalformed},
		{"counter overflow", strings.Replace(good, "c=42", "c=18446744073709551616", 1), secret, ErrMalformed},
		{"escaped plate", strings.Replace(good, "p=plate-1", "p=plate%2D1", 1), secret, ErrMalformed},
		{"short MAC", good[:len(good)-1], secret, ErrMalformed},
		{"padded MAC", good[:len(good)-2] + "==", secret, ErrMalformed},
		{"non-canonical base64", good[:len(good)-1] + "B", secret, ErrMalformed},
		{"bad URL", "https://c.example.com/%zz?p=plate-1&c=1&m=AAAAAAAAAAAAAAAAAAAAAA", secret, ErrMalformed},
		{"short secret", good, secret[:15], ErrShortSecret},
	}
	for _, c := range cases {
		_, err := Verify(c.url, c.sec)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Verify(%q) = %v, want %v", c.name, c.url, err, c.want)
		}
	}
}

// Non-canonical base64: the last character of 16 bytes carries 4 unused
// bits; a variant differing only there must not decode to the same MAC.
func TestStrictBase64(t *testing.T) {
	good := sign(t, "https://c.example.com/t", "plate-1", 42) // ...858A: last char 'A'
	if _, err := Verify(good[:len(good)-1]+"B", secret); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func TestSignRefuses(t *testing.T) {
	cases := []struct {
		base, plate string
		sec         []byte
		want        error
	}{
		{"ftp://c.example.com/t", "plate-1", secret, ErrBadBase},
		{"c.example.com/t", "plate-1", secret, ErrBadBase},
		{"https:///t", "plate-1", secret, ErrBadBase},
		{"https://u:pw@c.example.com/t", "plate-1", secret, ErrBadBase},
		{"https://c.example.com/t?p=3", "plate-1", secret, ErrBadBase},
		{"https://c.example.com/t?x=1&%6D=3", "plate-1", secret, ErrBadBase},
		{"https://c.example.com/t", "", secret, ErrBadPlateID},
		{"https://c.example.com/t", "plate 1", secret, ErrBadPlateID},
		{"https://c.example.com/t", strings.Repeat("p", 65), secret, ErrBadPlateID},
		{"https://c.example.com/t", "plate-1", secret[:10], ErrShortSecret},
		{"https://c.example.com/" + strings.Repeat("x", 900), "plate-1", secret, ErrTooLong},
	}
	for _, c := range cases {
		if u, err := Sign(c.base, c.plate, 1, c.sec); !errors.Is(err, c.want) {
			t.Errorf("Sign(%.40q, %q) = %q, %v, want %v", c.base, c.plate, u, err, c.want)
		}
	}
}

// The budget is the 1k tag's data area as the ntag driver computes it, and
// the longest base CheckBase accepts really fits with the longest counter.
func TestLengthBudget(t *testing.T) {
	if got := ntag.CC1k.DataArea(); got != TagBudget {
		t.Fatalf("ntag 1k data area = %d, TagBudget = %d", got, TagBudget)
	}
	plate := strings.Repeat("p", MaxPlateIDLen)
	// Grow the path until CheckBase refuses: the last accepted base must
	// give a URL that fits for the largest counter; the first refused one
	// must not fit.
	last := ""
	for n := 700; n < 900; n++ {
		base := "https://c.example.com/" + strings.Repeat("x", n)
		if err := CheckBase(base, plate); err != nil {
			if !errors.Is(err, ErrTooLong) {
				t.Fatal(err)
			}
			break
		}
		last = base
	}
	if last == "" {
		t.Fatal("no base accepted")
	}
	u, err := Sign(last, plate, 1<<64-1, secret)
	if err != nil {
		t.Fatalf("longest accepted base: %v", err)
	}
	msg, err := ndef.EncodeURI(u)
	if err != nil {
		t.Fatal(err)
	}
	if tlv := len(msg) + 5; tlv > TagBudget || tlv < TagBudget-1 {
		t.Fatalf("longest URL takes %d bytes as a TLV, budget %d (want it tight)", tlv, TagBudget)
	}
	if _, err := Sign(last+"x", plate, 1<<64-1, secret); !errors.Is(err, ErrTooLong) {
		t.Fatalf("one byte more: err = %v, want ErrTooLong", err)
	}
	// A typical coupon is short: it costs the phone little to read.
	if u := sign(t, "https://c.example.com/t", "plate-1", 1<<40); len(u) > 80 {
		t.Fatalf("typical coupon is %d characters: %s", len(u), u)
	}
}

func TestInspect(t *testing.T) {
	c, err := Inspect(sign(t, "https://c.example.com/t", "plate-3", 9))
	if err != nil || c != (Claims{"plate-3", 9}) {
		t.Fatalf("Inspect = %v, %v", c, err)
	}
}

func TestVerifierReplay(t *testing.T) {
	store := NewMemoryRedeemed()
	v, err := NewVerifier(secret, store)
	if err != nil {
		t.Fatal(err)
	}
	u1, u2 := sign(t, "https://c.example.com/t", "plate-1", 1), sign(t, "https://c.example.com/t", "plate-1", 2)
	if _, err := v.Redeem(u2); err != nil { // redeemed out of order: fine
		t.Fatal(err)
	}
	if _, err := v.Redeem(u1); err != nil {
		t.Fatal(err)
	}
	if c, err := v.Redeem(u1); !errors.Is(err, ErrReplayed) || c.Counter != 1 {
		t.Fatalf("replay: %v, %v", c, err)
	}
	// A forged URL is refused and not recorded.
	if _, err := v.Redeem(strings.Replace(u1, "c=1", "c=3", 1)); !errors.Is(err, ErrBadMAC) {
		t.Fatalf("forged: %v", err)
	}
	if store.Len() != 2 {
		t.Fatalf("store holds %d coupons, want 2", store.Len())
	}
	// The same (plate, counter) with the base moved is still the same coupon.
	if _, err := v.Redeem(sign(t, "https://other.example.com/x", "plate-1", 2)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("moved base: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v", v, v, v); strings.Contains(s, string(secret[:10])) {
		t.Fatalf("verifier prints its secret: %s", s)
	}
}

type failingStore struct{}

func (failingStore) Redeem(string, uint64) (bool, error) { return false, errors.New("db down") }

func TestVerifierStoreError(t *testing.T) {
	v, _ := NewVerifier(secret, failingStore{})
	if _, err := v.Redeem(sign(t, "https://c.example.com/t", "plate-1", 1)); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewVerifier(secret, nil); err == nil {
		t.Fatal("nil store accepted")
	}
}

// Of many concurrent redemptions of one coupon exactly one succeeds.
func TestVerifierConcurrentReplay(t *testing.T) {
	v, _ := NewVerifier(secret, NewMemoryRedeemed())
	u := sign(t, "https://c.example.com/t", "plate-1", 77)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Redeem(u); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d redemptions succeeded, want 1", ok.Load())
	}
}

func BenchmarkSign(b *testing.B) {
	b.ReportAllocs()
	for i := uint64(0); b.Loop(); i++ {
		if _, err := Sign("https://c.example.com/t", "plate-1", i, secret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	u := sign(b, "https://c.example.com/t", "plate-1", 123456)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(u, secret); err != nil {
			b.Fatal(err)
		}
	}
}
