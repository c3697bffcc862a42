package ndef

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A Type 2 tag data area read by a PN532, from NXP Community thread
// "NFC Tags Memory Explanation" (community.nxp.com/t5/NFC/.../td-p/748580):
// pages 4..8 hold an NDEF TLV with a Text record "elephant" and FE.
func TestUnwrapTLVElephant(t *testing.T) {
	mem := unhex(t, "030FD101 0B540265 6E656C65 7068616E 74FE0000")
	msg, err := UnwrapTLV(mem)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := recs[0].Text(); err != nil || got != (Text{Lang: "en", Text: "elephant"}) {
		t.Errorf("Text = %+v, %v", got, err)
	}
	// And the other way: the record re-encoded and wrapped gives the same
	// bytes up to the terminator.
	r, _ := NewTextRecord(Text{Lang: "en", Text: "elephant"})
	enc, _ := Encode([]Record{r})
	if w := WrapTLV(enc); !bytes.Equal(w, mem[:len(w)]) {
		t.Errorf("WrapTLV = % X, want % X", w, mem[:len(w)])
	}
}

// An NTAG213 dump from Stack Overflow question 56778984 ("Resolving contents
// of MiFare Ultralight NFC tag"): its data area starts with the factory Lock
// Control TLV 01 03 A0 0C 34, then an NDEF TLV of three Text records "hi".
func TestUnwrapTLVSkipsLockControl(t *testing.T) {
	mem := unhex(t, "0103a00c34031b91010554 02656e6869110105540265 6e686951010554 02656e6869fe00000000000000")
	msg, err := UnwrapTLV(mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) != 0x1b {
		t.Fatalf("message of %d bytes, want 27", len(msg))
	}
	recs, err := Decode(msg)
	if err != nil || len(recs) != 3 {
		t.Fatalf("Decode = %v, %v", recs, err)
	}
	for i, r := range recs {
		if got, err := r.Text(); err != nil || got.Text != "hi" || got.Lang != "en" {
			t.Errorf("record %d: %+v, %v", i, got, err)
		}
	}
}

func TestWrapTLVLengths(t *testing.T) {
	for _, tc := range []struct {
		n    int
		head string
	}{
		{0, "03 00"},
		{0xFE, "03 FE"},
		{0xFF, "03 FF 00FF"},
		{0x100, "03 FF 0100"},
		{MaxTLVLen, "03 FF FFFE"},
	} {
		msg := bytes.Repeat([]byte{0xAB}, tc.n)
		w := WrapTLV(msg)
		head := unhex(t, tc.head)
		if !bytes.HasPrefix(w, head) || len(w) != len(head)+tc.n+1 || w[len(w)-1] != TLVTerminator {
			t.Errorf("WrapTLV(%d bytes) = % X..., want % X + msg + FE", tc.n, w[:min(len(w), 6)], head)
			continue
		}
		back, err := UnwrapTLV(w)
		if err != nil || !bytes.Equal(back, msg) {
			t.Errorf("UnwrapTLV(WrapTLV(%d bytes)) = %d bytes, %v", tc.n, len(back), err)
		}
	}
	if w := WrapTLV(make([]byte, MaxTLVLen+1)); w != nil {
		t.Errorf("WrapTLV of %d bytes = %d bytes, want nil", MaxTLVLen+1, len(w))
	}
}

func TestUnwrapTLVCases(t *testing.T) {
	for _, tc := range []struct {
		mem, want string // want: hex of the message, or "err:<text>"
	}{
		{"03 00 FE", ""},                           // blank formatted tag: empty message
		{"00 00 03 02 D000 FE", "D000"},            // NULL TLVs skipped
		{"02 03 3F 81 F2 03 01 AA", "AA"},          // Memory Control skipped
		{"FD 02 1122 03 01 AA FE", "AA"},           // Proprietary skipped
		{"42 01 00 03 01 AA", "AA"},                // unknown TLV skipped by its length
		{"01 FF 0002 1122 03 01 AA", "AA"},         // 3-byte length on a skipped TLV
		{"03 FF 0001 AA FE", "AA"},                 // 3-byte length below 0xFF is accepted
		{"03 01 AA 03 01 BB", "AA"},                // the first NDEF TLV wins
		{"", "err:no NDEF message TLV"},            // nothing read
		{"00 00 00", "err:no NDEF message TLV"},    // only padding
		{"FE 03 01 AA", "err:no NDEF message TLV"}, // terminator first
		{"01", "err:has no length"},
		{"03 FF 00", "err:3-byte length cut short"},
		{"03 FF FFFF", "err:reserved"},
		{"03 05 D00000", "err:length 5 runs past the end"},
		{"01 03 A0 0C", "err:length 3 runs past"},
	} {
		got, err := UnwrapTLV(unhex(t, tc.mem))
		if msg, ok := strings.CutPrefix(tc.want, "err:"); ok {
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Errorf("UnwrapTLV(%s) = % X, %v; want error %q", tc.mem, got, err, msg)
			}
			continue
		}
		if want := unhex(t, tc.want); err != nil || !bytes.Equal(got, want) || got == nil {
			t.Errorf("UnwrapTLV(%s) = % X (nil %v), %v; want % X", tc.mem, got, got == nil, err, want)
		}
	}
	if _, err := UnwrapTLV(unhex(t, "FE")); !errors.Is(err, ErrNoNDEF) {
		t.Errorf("terminator only: %v, want ErrNoNDEF", err)
	}
	if _, err := Decode(WrapTLV(nil)[2:2]); !errors.Is(err, ErrEmpty) {
		t.Errorf("Decode of a blank tag's message: %v, want ErrEmpty", err)
	}
}
