package ndef

import (
	"bytes"
	"testing"
)

// FuzzDecode: Decode never panics; what decodes, re-encodes to a message
// that decodes to the same records; URI and Text never panic.
// Rerun: go test -run '^$' -fuzz FuzzDecode -fuzztime 30s ./drivers/nfc/ndef/
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"D00000", "900000500000", "D9010702 5869647061796c6f6164",
		"D1010a55036e666370792e6f7267", "D101075402656e54455854",
		"91011655046769746875622e636f6d2f6e6663696d2f6e64656651010b55046769746875622e636f6d",
		"B20A03746578742f706c61696e616263 3600026465 56000166",
		"C5000000000268 69", "D7000000", "950000960000560000", "D1010255FF",
		"D101035482656e", "D10108548265 6efffe4800",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		in := bytes.Clone(msg)
		recs, err := Decode(msg)
		if !bytes.Equal(in, msg) {
			t.Fatal("Decode modified its input")
		}
		if err != nil {
			return
		}
		for _, r := range recs {
			_, _ = r.URI()
			_, _ = r.Text()
			_ = r.String()
		}
		enc, err := Encode(recs)
		if err != nil {
			t.Fatalf("decoded records do not encode: %v", err)
		}
		back, err := Decode(enc)
		if err != nil || !recordsEqual(back, recs) {
			t.Fatalf("re-encoded message decodes to %v, %v; want %v", back, err, recs)
		}
	})
}

// FuzzUnwrapTLV: UnwrapTLV never panics, returns part of its input, and a
// message it returns wraps and unwraps to itself.
// Rerun: go test -run '^$' -fuzz FuzzUnwrapTLV -fuzztime 30s ./drivers/nfc/ndef/
func FuzzUnwrapTLV(f *testing.F) {
	for _, s := range []string{
		"030FD1010B5402656E656C657068616E74FE0000",
		"0103a00c34031b9101055402656e6869110105540265 6e686951010554 02656e6869fe00",
		"0300FE", "FE", "", "00000301AA", "03FF0001AAFE", "03FFFFFF", "01FF",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, mem []byte) {
		msg, err := UnwrapTLV(mem)
		if err != nil {
			return
		}
		if len(msg) > len(mem) || (len(msg) > 0 && !bytes.Contains(mem, msg)) {
			t.Fatalf("message of %d bytes is not part of the %d-byte input", len(msg), len(mem))
		}
		back, err := UnwrapTLV(WrapTLV(msg))
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("wrap/unwrap: % X, %v; want % X", back, err, msg)
		}
	})
}
