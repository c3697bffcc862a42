package pseudo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef")
	secretB = []byte("fedcba9876543210fedcba9876543210")
	uid     = []byte{0x04, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0x80}
)

func mustNew(t testing.TB, s []byte) *Pseudonymizer {
	t.Helper()
	p, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenStableAndKeyed(t *testing.T) {
	a, b := mustNew(t, secretA), mustNew(t, secretB)
	t1, t2 := a.Token(uid), a.Token(bytes.Clone(uid))
	if !bytes.Equal(t1, t2) {
		t.Fatalf("same raw, same secret: %x != %x", t1, t2)
	}
	if len(t1) != Size {
		t.Fatalf("len = %d, want %d", len(t1), Size)
	}
	if bytes.Equal(t1, b.Token(uid)) {
		t.Fatal("different secrets gave the same pseudonym")
	}
	if bytes.Equal(t1, a.Token(uid[:6])) {
		t.Fatal("different raw values gave the same pseudonym")
	}
	if bytes.Contains(t1, uid[1:5]) {
		t.Fatal("pseudonym carries raw bytes")
	}
}

// The pseudonym is exactly the documented construction, so another
// implementation (a cloud-side tool) can reproduce it.
func TestTokenConstruction(t *testing.T) {
	m := hmac.New(sha256.New, secretA)
	m.Write([]byte("edge-agent/nfc-pseudonym/v1\x00"))
	m.Write(uid)
	want := m.Sum(nil)[:16]
	if got := mustNew(t, secretA).Token(uid); !bytes.Equal(got, want) {
		t.Fatalf("Token = %x, want %x", got, want)
	}
	// Fixed vector (computed with Python's hmac module): guards the label
	// and the truncation against edits.
	const vec = "12cc1aa58d4cd98540587f1aced30e94"
	if got := hex.EncodeToString(mustNew(t, secretA).Token(uid)); got != vec {
		t.Fatalf("Token = %s, want %s", got, vec)
	}
}

func TestAppendTokenNoAlloc(t *testing.T) {
	p := mustNew(t, secretA)
	dst := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() { dst = p.AppendToken(dst[:0], uid) })
	if n != 0 {
		t.Fatalf("AppendToken allocates %v times", n)
	}
}

func TestShortSecret(t *testing.T) {
	_, err := New(secretA[:15])
	if !errors.Is(err, ErrShortSecret) {
		t.Fatalf("err = %v, want ErrShortSecret", err)
	}
	if strings.Contains(err.Error(), string(secretA[:15])) {
		t.Fatal("error shows the secret")
	}
}

func TestNoSecretInOutput(t *testing.T) {
	p := mustNew(t, secretA)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "p", p)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "p", p)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", p, p, p, p), logged.String()} {
		if strings.Contains(s, string(secretA[:8])) || strings.Contains(s, hex.EncodeToString(secretA[:8])) {
			t.Fatalf("secret in %q", s)
		}
	}
	if !strings.Contains(logged.String(), "HMAC-SHA256") {
		t.Fatalf("log = %q", logged.String())
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := LoadSecret(write("ok", string(secretA)+"\n"))
	if err != nil || !bytes.Equal(got, secretA) {
		t.Fatalf("LoadSecret = %q, %v", got, err)
	}
	got, err = LoadSecret(write("crlf", string(secretA)+"\r\n"))
	if err != nil || !bytes.Equal(got, secretA) {
		t.Fatalf("CRLF: LoadSecret = %q, %v", got, err)
	}
	for _, c := range []struct{ name, content, want string }{
		{"empty", "\n", "empty"},
		{"short", "tooshortsecret\n", "14 bytes, want at least 16"},
	} {
		path := write(c.name, c.content)
		_, err := LoadSecret(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want the path and %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "tooshort") {
			t.Errorf("%s: error shows the content: %v", c.name, err)
		}
	}
	missing := filepath.Join(dir, "missing")
	if _, err := LoadSecret(missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: err = %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	p := mustNew(t, secretA)
	want := p.Token(uid)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if !bytes.Equal(p.Token(uid), want) {
					t.Error("concurrent Token differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkToken(b *testing.B) {
	p := mustNew(b, secretA)
	dst := make([]byte, 0, Size)
	b.ReportAllocs()
	for b.Loop() {
		dst = p.AppendToken(dst[:0], uid)
	}
}
