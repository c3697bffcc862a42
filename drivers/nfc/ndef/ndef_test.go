package ndef

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// unhex decodes a hex vector written with spaces between groups.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad test vector %q: %v", s, err)
	}
	return b
}

func recordsEqual(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].TNF != b[i].TNF || !bytes.Equal(a[i].Type, b[i].Type) || !bytes.Equal(a[i].ID, b[i].ID) || !bytes.Equal(a[i].Payload, b[i].Payload) {
			return false
		}
	}
	return true
}

// Messages that encode and decode both ways.
func TestEncodeDecodeVectors(t *testing.T) {
	p256 := bytes.Repeat([]byte{'p'}, 256)
	for _, tc := range []struct {
		name, hex string
		recs      []Record
	}{
		// nfcpy/ndeflib tests/test_message.py, test_message_set_1.
		{"one empty record", "D00000", []Record{{}}},
		{"two empty records", "900000 500000", []Record{{}, {}}},
		{"three empty records", "900000 100000 500000", []Record{{}, {}, {}}},
		// nfcpy/ndeflib tests/test_record.py, TestEncode (there a lone record
		// without MB/ME: 19.. and 09..; as a one-record message D9.. and C9..).
		{"record with ID", "D9010702 5869647061796c6f6164",
			[]Record{{TNF: TNFWellKnown, Type: []byte("X"), ID: []byte("id"), Payload: []byte("payload")}}},
		{"long record", "C9010000010002 586964" + strings.Repeat("70", 256),
			[]Record{{TNF: TNFWellKnown, Type: []byte("X"), ID: []byte("id"), Payload: p256}}},
		{"media type", "D20A00 746578742f706c61696e",
			[]Record{{TNF: TNFMedia, Type: []byte("text/plain")}}},
		{"external type", "D40A00 612e636f6d3a74797065",
			[]Record{{TNF: TNFExternal, Type: []byte("a.com:type")}}},
		{"unknown type", "D50003 616263", []Record{{TNF: TNFUnknown, Payload: []byte("abc")}}},
		// nfcpy/ndeflib tests/test_uri.py, uri_messages.
		{"two URI records", "91010a55036e666370792e6f7267 51010a55046e666370792e6f7267", []Record{
			{TNF: TNFWellKnown, Type: []byte("U"), Payload: []byte("\x03nfcpy.org")},
			{TNF: TNFWellKnown, Type: []byte("U"), Payload: []byte("\x04nfcpy.org")},
		}},
		// nfcpy/ndeflib tests/test_text.py, text_messages.
		{"text", "D101075402656e54455854", []Record{{TNF: TNFWellKnown, Type: []byte("T"), Payload: []byte("\x02enTEXT")}}},
	} {
		want := unhex(t, tc.hex)
		got, err := Encode(tc.recs)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: Encode = % X, %v\n want % X", tc.name, got, err, want)
		}
		recs, err := Decode(want)
		if err != nil || !recordsEqual(recs, tc.recs) {
			t.Errorf("%s: Decode = %v, %v, want %v", tc.name, recs, err, tc.recs)
		}
	}
}

// A payload of exactly 255 bytes is still a short record, 256 is long.
func TestShortLongBoundary(t *testing.T) {
	for _, n := range []int{0, 255, 256, 70000} {
		msg, err := Encode([]Record{{TNF: TNFUnknown, Payload: make([]byte, n)}})
		if err != nil {
			t.Fatal(err)
		}
		short := msg[0]&flagSR != 0
		if short != (n <= 255) {
			t.Errorf("payload %d: SR = %v", n, short)
		}
		recs, err := Decode(msg)
		if err != nil || len(recs[0].Payload) != n {
			t.Errorf("payload %d: decoded %v, %v", n, recs, err)
		}
	}
}

// A long-format record holding a short payload is valid NDEF.
func TestDecodeLongFormShortPayload(t *testing.T) {
	recs, err := Decode(unhex(t, "C5 00 00000002 6869"))
	if err != nil || len(recs) != 1 || string(recs[0].Payload) != "hi" {
		t.Errorf("Decode = %v, %v", recs, err)
	}
}

func TestDecodeChunked(t *testing.T) {
	// Built from NDEF 1.0 3.2.3: first chunk CF with the type, middle chunk
	// CF + TNF 6, last chunk TNF 6 without CF; SR on each.
	msg := unhex(t, "B2 0A 03 746578742f706c61696e 616263"+ // MB CF SR TNF=2, "text/plain", "abc"
		"36 00 02 6465"+ // CF SR TNF=6, "de"
		"56 00 01 66"+ // ME SR TNF=6, "f"
		"")
	recs, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{{TNF: TNFMedia, Type: []byte("text/plain"), Payload: []byte("abcdef")}}
	if !recordsEqual(recs, want) {
		t.Errorf("Decode = %v %q, want %v", recs, recs[0].Payload, want)
	}
	// The chunk payloads were concatenated into new memory: the decoded
	// record does not share the message bytes that followed it.
	if !bytes.Equal(msg, unhex(t, "B20A03746578742f706c61696e616263 36000264 65 56000166")) {
		t.Error("Decode modified its input")
	}

	// Chunked record followed by another record.
	recs, err = Decode(unhex(t, "B5 00 01 61  16 00 01 62  51 01 00 58"))
	if err != nil || len(recs) != 2 || string(recs[0].Payload) != "ab" || string(recs[1].Type) != "X" {
		t.Errorf("chunked then plain: %v, %v", recs, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ hex, want string }{
		{"", "empty message"},
		// nfcpy/ndeflib tests/test_message.py, test_message_set_2.
		{"150000 160000 560000", "first record without MB"},
		{"950000 960000 560000", "MB set on a record after the first"},
		{"950000 150000 150000", "no record flagged ME"},
		{"B50000 160000 760000", "TNF 6 (unchanged) is only for chunks"}, // CF set in last
		{"B50000 760000", "ME set on a chunk that is not the last"},
		// nfcpy/ndeflib tests/test_message.py test_message_set_3 and
		// test_record.py wrong_decode_data, with MB and ME set.
		{"D9", "header needs 2 bytes"},
		{"D901", "payload length needs 1 bytes"},
		{"D90101", "ID length needs 1 bytes"},
		{"D9010101", "type, ID and payload needs 3 bytes, 0 left"},
		{"D9010101aabb", "needs 3 bytes, 2 left"},
		{"D9000000", "needs a type"},
		{"D1000000", "needs a type"},
		{"D20000", "needs a type"},
		{"D30000", "needs a type"},
		{"D40000", "needs a type"},
		{"D8010000 58", "empty record (TNF 0) has no type"},
		{"D8000001 00", "empty record (TNF 0) has no type"},
		{"D0000100", "empty record (TNF 0) has no type"},
		{"D5010000", "unknown type (TNF 5) has no type"},
		{"D6000000", "only for chunks"},
		{"D6010000", "chunk continuation (TNF 6) has no type"},
		{"D7000000", "TNF 7 is reserved"},
		{"C0 00 00000000", "TNF 0"}, // long-form empty record is fine...
		{"C5 00 FFFFFFFF 00", "needs 4294967295 bytes"},
		{"D00000 00", "1 bytes after the record flagged ME"},
		{"B5 00 01 61  15 00 01 62  56 00 00", "chunk continuation with TNF 5"},
		{"B5 00 01 61  5E 00 01 01 62 69", "chunk continuation with an ID"},
		{"B0 00 00  56 00 00", "empty record (TNF 0) cannot be chunked"},
	} {
		msg := unhex(t, tc.hex)
		recs, err := Decode(msg)
		if tc.hex == "C0 00 00000000" {
			if err != nil || len(recs) != 1 {
				t.Errorf("%s: %v, %v; want one empty record", tc.hex, recs, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s) = %v, %v; want error containing %q", tc.hex, recs, err, tc.want)
		}
	}
	if _, err := Decode(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Decode(nil) = %v, want ErrEmpty", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	for name, recs := range map[string][]Record{
		"no records":      nil,
		"TNF 7":           {{TNF: 7}},
		"TNF 8":           {{TNF: 8}},
		"TNF 6":           {{TNF: TNFUnchanged}},
		"empty with data": {{TNF: TNFEmpty, Payload: []byte{1}}},
		"empty with id":   {{TNF: TNFEmpty, ID: []byte{1}}},
		"unknown typed":   {{TNF: TNFUnknown, Type: []byte("x")}},
		"media untyped":   {{TNF: TNFMedia}},
		"long type":       {{TNF: TNFMedia, Type: make([]byte, 256)}},
		"long id":         {{TNF: TNFMedia, Type: []byte("a/b"), ID: make([]byte, 256)}},
		"second bad":      {{TNF: TNFEmpty}, {TNF: TNFWellKnown}},
	} {
		if msg, err := Encode(recs); err == nil {
			t.Errorf("%s: Encode = % X, want error", name, msg)
		}
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	msg := unhex(t, "D1010a55036e666370792e6f7267")
	recs, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		msg[i] = 0
	}
	if u, err := recs[0].URI(); err != nil || u != "http://nfcpy.org" {
		t.Errorf("after clearing the input: %q, %v", u, err)
	}
}

func TestRecordStringHidesPayload(t *testing.T) {
	s := Record{TNF: TNFWellKnown, Type: []byte("T"), ID: []byte("secret-id"), Payload: []byte("\x02entoken-1234")}.String()
	if strings.Contains(s, "token-1234") || strings.Contains(s, "secret-id") {
		t.Errorf("String() = %q shows the payload or ID", s)
	}
	if !strings.Contains(s, `"T"`) || !strings.Contains(s, "13 bytes") {
		t.Errorf("String() = %q lacks type or length", s)
	}
}
