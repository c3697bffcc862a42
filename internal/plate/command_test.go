package plate

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	ok := []struct {
		in   string
		want Command
	}{
		{`{"v":1,"request_id":"r-1","plate":"plate-1","base_url":"https://c.example.com/t"}`,
			Command{V: 1, RequestID: "r-1", Plate: "plate-1", Content: Content{BaseURL: "https://c.example.com/t"}}},
		{` {"plate":"p.2","v":1,"store":"shibuya-01","uri":"http://example.com/s?x=1"} `,
			Command{V: 1, Store: "shibuya-01", Plate: "p.2", Content: Content{URI: "http://example.com/s?x=1"}}},
	}
	for _, c := range ok {
		got, err := ParseCommand([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{``, "want a JSON object"},
		{`[]`, "want a JSON object"},
		{`null`, "want a JSON object"},
		{`{"v":1,"plate":"plate-1","base_url":"https://c.example.com/t"`, "not valid JSON"},
		{`{"v":1,"plate":"plate-1","base_url":"https://c.example.com/t"} {}`, "trailing data"},
		{`{"v":2,"plate":"plate-1","uri":"https://a.example"}`, "v: want 1"},
		{`{"v":1.0,"plate":"plate-1","uri":"https://a.example"}`, "v: want 1"},
		{`{"plate":"plate-1","uri":"https://a.example"}`, "v: required"},
		{`{"v":1,"uri":"https://a.example"}`, "plate: required"},
		{`{"v":1,"plate":"plate 1","uri":"https://a.example"}`, "invalid plate id"},
		{`{"v":1,"plate":"plate-1","uri":"https://a.example","extra":1}`, `unknown key "extra"`},
		{`{"v":1,"plate":"plate-1","plate":"plate-2","uri":"https://a.example"}`, `key "plate" given twice`},
		{`{"v":1,"plate":"plate-1"}`, "give base_url"},
		{`{"v":1,"plate":"plate-1","uri":"https://a.example","base_url":"https://a.example"}`, "not both"},
		{`{"v":1,"plate":"plate-1","uri":"ftp://a.example/x"}`, "https://"},
		{`{"v":1,"plate":"plate-1","base_url":"tel:+123"}`, "https://"},
		{`{"v":1,"plate":"plate-1","base_url":"https://a.example/t?m=x"}`, `"m" parameter`},
		{`{"v":1,"plate":"plate-1","uri":"https://a.example/` + strings.Repeat("x", 900) + `"}`, "does not fit"},
		{`{"v":1,"plate":"plate-1","uri":"https://a.example/\u00e9"}`, "ASCII"},
		{`{"v":1,"plate":1,"uri":"https://a.example"}`, "plate: want a string"},
		{`{"v":1,"request_id":"` + strings.Repeat("r", 200) + `","plate":"plate-1","uri":"https://a.example"}`, "request_id"},
		{`{"v":1,"plate":"plate-1","uri":"https://a.example","pad":"` + strings.Repeat("x", MaxCommandSize) + `"}`, "at most 4096"},
	}
	for _, c := range bad {
		_, err := ParseCommand([]byte(c.in))
		if err == nil || !errors.Is(err, ErrCommand) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.80s: %v, want an ErrCommand containing %q", c.in, err, c.want)
		}
	}
	// The request id is kept for the reply when it could be read.
	c, err := ParseCommand([]byte(`{"v":1,"request_id":"r-9","plate":"plate-1","uri":"ftp://x"}`))
	if err == nil || c.RequestID != "r-9" {
		t.Fatalf("request id %q, %v", c.RequestID, err)
	}
}

func TestReplyEncode(t *testing.T) {
	yes := true
	got := string(Reply{RequestID: "r-1", OK: true, Plate: "plate-1", Applied: &yes}.Encode())
	if want := `{"v":1,"request_id":"r-1","ok":true,"plate":"plate-1","applied":true}`; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
	got = string(Reply{OK: false, Error: "unknown plate \"x\" & <y>"}.Encode())
	if want := `{"v":1,"ok":false,"error":"unknown plate \"x\" & <y>"}`; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

// FuzzParseCommand: any payload is refused with ErrCommand or gives a
// command whose content passes CheckContent; it never panics.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"request_id":"r-1","plate":"plate-1","base_url":"https://c.example.com/t"}`,
		`{"v":1,"plate":"plate-1","uri":"https://example.com/survey"}`,
		`{"v":1,"plate":"plate-1","plate":"x","uri":"https://a"}`,
		`{"v":1,"plate":"plate-1","base_url":"https://a.example/t?p=1"}`,
		`{"v":1e0,"plate":"p","uri":"http://a.b/#frag"}`,
		`{"v":1,"plate":"p","uri":"https://a.example","x":{"y":[1,2,{"z":null}]}}`,
		`{"v":1,"plate":"p","base_url":"https://a.example/t#f"}`,
		`{`, `}`, `""`, `{"v":}`, "\xff\xfe{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			if !errors.Is(err, ErrCommand) {
				t.Fatalf("error not wrapping ErrCommand: %v", err)
			}
			return
		}
		if c.V != 1 || CheckContent(c.Content, c.Plate) != nil {
			t.Fatalf("accepted %q as %+v", b, c)
		}
	})
}

func BenchmarkParseCommand(b *testing.B) {
	p := []byte(`{"v":1,"request_id":"r-1","plate":"plate-1","base_url":"https://c.example.com/t"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCommand(p); err != nil {
			b.Fatal(err)
		}
	}
}
