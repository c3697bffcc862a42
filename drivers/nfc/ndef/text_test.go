package ndef

import (
	"bytes"
	"strings"
	"testing"
)

func TestTextVectors(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		want          Text
		encodes       bool // NewTextRecord gives exactly this payload
	}{
		// nfcpy/ndeflib tests/test_text.py, test_decode_valid_data.
		{"empty en", "02656e", Text{Lang: "en"}, true},
		{"Hello", "02656e48656c6c6f", Text{Lang: "en", Text: "Hello"}, true},
		{"UTF-16LE BOM", "82656efffe480065006c006c006f00", Text{Lang: "en", Text: "Hello", UTF16: true}, false},
		{"delta UTF-8", "02656cce94", Text{Lang: "el", Text: "\u0394"}, true},
		{"delta UTF-16LE", "82656cfffe9403", Text{Lang: "el", Text: "\u0394", UTF16: true}, false},
		// Big-endian with and without a byte-order mark (Text RTD: big-endian
		// when there is none); this package writes the marked form.
		{"UTF-16BE BOM", "82656cfeff0394", Text{Lang: "el", Text: "\u0394", UTF16: true}, true},
		{"UTF-16BE no BOM", "82656c0394d83dde00", Text{Lang: "el", Text: "\u0394\U0001F600", UTF16: true}, false},
		// TI SLOA208B, "Example of a Text RTD Within an NDEF File".
		{"TI", "02656e" + "4e4643202d20506f776572656420627920546578617320496e737472756d656e747320496e632e",
			Text{Lang: "en", Text: "NFC - Powered by Texas Instruments Inc."}, true},
		{"reserved bit ignored", "42656e6869", Text{Lang: "en", Text: "hi"}, false},
	} {
		p := unhex(t, tc.payload)
		got, err := Record{TNF: TNFWellKnown, Type: []byte("T"), Payload: p}.Text()
		if err != nil || got != tc.want {
			t.Errorf("%s: Text() = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
		if !tc.encodes {
			continue
		}
		r, err := NewTextRecord(tc.want)
		if err != nil || !bytes.Equal(r.Payload, p) || r.TNF != TNFWellKnown || string(r.Type) != "T" {
			t.Errorf("%s: NewTextRecord = %v % X, %v; want payload % X", tc.name, r, r.Payload, err, p)
		}
	}
}

// TI SLOA208B: the whole NDEF file of the Text RTD example.
func TestTextMessageTI(t *testing.T) {
	r, err := NewTextRecord(Text{Lang: "en", Text: "NFC - Powered by Texas Instruments Inc."})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Encode([]Record{r})
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "D1 01 2A 54 02 656E"); !bytes.HasPrefix(msg, want) || len(msg) != 4+0x2A {
		t.Errorf("message % X, want prefix % X and %d bytes", msg, want, 4+0x2A)
	}
}

func TestTextErrors(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		// nfcpy/ndeflib tests/test_text.py, test_decode_error_data.
		{"82656e54", "odd length"},
		{"02656efffe5400", "not valid UTF-8"},
		{"00", "empty language code"},
		{"01", "language code of 1 bytes, 0 left"},
		{"", "without payload"},
		{"82656c00d800", "odd length"},
		{"82656cd83d0041", "unpaired surrogate"}, // high surrogate, then 'A'
		{"82656cde00", "unpaired surrogate"},     // lone low surrogate
	} {
		_, err := Record{TNF: TNFWellKnown, Type: []byte("T"), Payload: unhex(t, tc.payload)}.Text()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Text(%s) err = %v, want %q", tc.payload, err, tc.want)
		}
	}
	if _, err := (Record{TNF: TNFWellKnown, Type: []byte("U"), Payload: []byte{2, 'e', 'n'}}).Text(); err == nil {
		t.Error("Text() of a URI record succeeded")
	}
	for _, tx := range []Text{{Lang: ""}, {Lang: strings.Repeat("a", 64)}, {Lang: "e n"}, {Lang: "en", Text: "\xff"}} {
		if _, err := NewTextRecord(tx); err == nil {
			t.Errorf("NewTextRecord(%+v) succeeded", tx)
		}
	}
	if _, err := NewTextRecord(Text{Lang: strings.Repeat("a", 63), Text: "ok"}); err != nil {
		t.Errorf("63-byte language code: %v", err)
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, tx := range []Text{
		{Lang: "de-CH", Text: "Grüezi 👋"},
		{Lang: "ja", Text: "こんにちは 👋", UTF16: true},
		{Lang: "en", Text: strings.Repeat("long ", 100), UTF16: true},
	} {
		r, err := NewTextRecord(tx)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := Encode([]Record{r})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := Decode(msg)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := recs[0].Text(); err != nil || got != tx {
			t.Errorf("round trip %+v -> %+v, %v", tx, got, err)
		}
	}
}
