package ndef

import (
	"bytes"
	"strings"
	"testing"
)

func TestEncodeURIVectors(t *testing.T) {
	for _, tc := range []struct{ uri, hex string }{
		// The URI RTD's own example abbreviation: "https://www." is code 0x02;
		// 0x0C = 1 code byte + 11 bytes of "example.com".
		{"https://www.example.com", "D1 01 0C 55 02 6578616d706c652e636f6d"},
		// nfcpy/ndeflib tests/test_uri.py, uri_messages.
		{"http://nfcpy.org", "D1010a55036e666370792e6f7267"},
		{"smtp://nfcpy.org", "D101115500736d74703a2f2f6e666370792e6f7267"}, // no prefix: code 0
		// Longest match: "urn:epc:id:" (1E) over "urn:epc:" (22) and "urn:" (13).
		{"urn:epc:id:12345", "D1 01 06 55 1E 3132333435"},
		{"ftp://anonymous:anonymous@nfcpy", "D1 01 06 55 07 6e66637079"},
		{"ftp://ftp.nfcpy", "D1 01 06 55 08 6e66637079"},
		{"ftp://nfcpy", "D1 01 06 55 0D 6e66637079"},
		{"https://", "D1 01 01 55 04"},
		{"HTTPS://www.x", "D1 01 0E 55 00 48545450533a2f2f7777772e78"}, // prefixes are case-sensitive
	} {
		got, err := EncodeURI(tc.uri)
		if want := unhex(t, tc.hex); err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncodeURI(%q) = % X, %v\n want % X", tc.uri, got, err, want)
		}
	}
}

// Two URI records, from nfcim/ndef test/test_uri.dart.
func TestDecodeTwoURIs(t *testing.T) {
	recs, err := Decode(unhex(t, "91011655046769746875622e636f6d2f6e6663696d2f6e64656651010b55046769746875622e636f6d"))
	if err != nil || len(recs) != 2 {
		t.Fatalf("Decode = %v, %v", recs, err)
	}
	for i, want := range []string{"https://github.com/nfcim/ndef", "https://github.com"} {
		if got, err := recs[i].URI(); got != want || err != nil {
			t.Errorf("record %d URI = %q, %v; want %q", i, got, err, want)
		}
	}
}

// Every identifier code: nfcpy/ndeflib tests/test_uri.py,
// test_decode_valid_data, payload <code> followed by "nfcpy".
func TestURIPrefixTable(t *testing.T) {
	want := []string{"", "http://www.", "https://www.", "http://", "https://", "tel:", "mailto:",
		"ftp://anonymous:anonymous@", "ftp://ftp.", "ftps://", "sftp://", "smb://", "nfs://", "ftp://",
		"dav://", "news:", "telnet://", "imap:", "rtsp://", "urn:", "pop:", "sip:", "sips:", "tftp:",
		"btspp://", "btl2cap://", "btgoep://", "tcpobex://", "irdaobex://", "file://", "urn:epc:id:",
		"urn:epc:tag:", "urn:epc:pat:", "urn:epc:raw:", "urn:epc:", "urn:nfc:"}
	if len(want) != 0x24 {
		t.Fatalf("table in test has %d entries", len(want))
	}
	for code, prefix := range want {
		r := Record{TNF: TNFWellKnown, Type: []byte("U"), Payload: append([]byte{byte(code)}, "nfcpy"...)}
		got, err := r.URI()
		if err != nil || got != prefix+"nfcpy" {
			t.Errorf("code 0x%02X: %q, %v; want %q", code, got, err, prefix+"nfcpy")
		}
		// Encoding it back picks this code, unless a longer prefix matches
		// (none does: "nfcpy" extends no prefix into another).
		rec, err := NewURIRecord(prefix + "nfcpy")
		if err != nil {
			t.Fatal(err)
		}
		wantCode := byte(code)
		if rec.Payload[0] != wantCode {
			t.Errorf("NewURIRecord(%q) code 0x%02X, want 0x%02X", prefix+"nfcpy", rec.Payload[0], wantCode)
		}
	}
}

func TestURIErrors(t *testing.T) {
	for _, tc := range []struct {
		r    Record
		want string
	}{
		// nfcpy/ndeflib tests/test_uri.py, test_decode_error_data.
		{Record{TNF: 1, Type: []byte("U"), Payload: unhex(t, "246e66637079")}, "0x24 is reserved"},
		{Record{TNF: 1, Type: []byte("U"), Payload: unhex(t, "ff6e66637079")}, "0xFF is reserved"},
		{Record{TNF: 1, Type: []byte("U"), Payload: unhex(t, "0380")}, "not valid UTF-8"},
		{Record{TNF: 1, Type: []byte("U"), Payload: unhex(t, "0300")}, "control character"},
		{Record{TNF: 1, Type: []byte("U")}, "without payload"},
		{Record{TNF: 1, Type: []byte("U"), Payload: []byte{0}}, "empty URI"},
		{Record{TNF: 1, Type: []byte("T"), Payload: []byte{3}}, "not a URI record"},
		{Record{TNF: 3, Type: []byte("U"), Payload: []byte{3}}, "not a URI record"},
	} {
		if got, err := tc.r.URI(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("URI(% X) = %q, %v; want error with %q", tc.r.Payload, got, err, tc.want)
		}
	}
	for _, uri := range []string{"", "http://a\x00b", "http://\xff", "tel:1\n"} {
		if msg, err := EncodeURI(uri); err == nil {
			t.Errorf("EncodeURI(%q) = % X, want error", uri, msg)
		}
	}
}

func TestURIRoundTripLongAndUnicode(t *testing.T) {
	for _, uri := range []string{
		"http://www.hääyö.com/~user/index.html",
		"https://shop.example/p?" + strings.Repeat("x", 300), // long record
		"tel:+41441234567",
	} {
		msg, err := EncodeURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		if (msg[0]&flagSR != 0) != (len(uri) < 255) {
			t.Errorf("%q: SR flag %v", uri, msg[0]&flagSR != 0)
		}
		recs, err := Decode(msg)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := recs[0].URI(); got != uri || err != nil {
			t.Errorf("round trip %q -> %q, %v", uri, got, err)
		}
	}
}
