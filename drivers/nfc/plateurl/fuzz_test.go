package plateurl

import (
	"errors"
	"strings"
	"testing"
)

// FuzzVerify: any string either verifies (then it re-signs to a URL with
// the same claims) or fails with one of the package's errors; never a panic.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"https://c.example.com/t?p=plate-1&c=42&m=xXOa7uE_tPvD8xq_Pg858A",
		"https://c.example.com/t?store=12&p=shelf-a.plate_2&c=0&m=HmJqPc95dpiBXbneqAd9qQ#top",
		"https://c.example.com/t?p=&c=&m=",
		"?p=a&c=1&m=AAAAAAAAAAAAAAAAAAAAAA",
		"https://c.example.com/t?p=a&p=b",
		"%",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		c, err := Verify(u, secret)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadMAC) {
				t.Fatalf("Verify(%q): unexpected error kind %v", u, err)
			}
			return
		}
		m, err := MAC(c.PlateID, c.Counter, secret)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(u, ParamMAC+"="+m) {
			t.Fatalf("Verify(%q) accepted a MAC other than %s", u, m)
		}
		if _, err := Inspect(u); err != nil {
			t.Fatalf("verified but Inspect fails: %v", err)
		}
	})
}

// FuzzSignVerify: whatever Sign accepts, Verify accepts with the same claims.
func FuzzSignVerify(f *testing.F) {
	f.Add("https://c.example.com/t", "plate-1", uint64(42))
	f.Add("https://c.example.com/t?a=1#x", "a.b_c-d", uint64(0))
	f.Add("http://h/?&", "Z", uint64(1<<63))
	f.Fuzz(func(t *testing.T, base, plate string, n uint64) {
		u, err := Sign(base, plate, n, secret)
		if err != nil {
			return
		}
		c, err := Verify(u, secret)
		if err != nil || c.PlateID != plate || c.Counter != n {
			t.Fatalf("Sign(%q, %q, %d) = %q; Verify = %v, %v", base, plate, n, u, c, err)
		}
		if _, err := Verify(u, other); !errors.Is(err, ErrBadMAC) {
			t.Fatalf("verifies with another secret: %v", err)
		}
	})
}
