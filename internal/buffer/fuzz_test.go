package buffer

import (
	"bytes"
	"testing"
)

// FuzzDecodeRecord: any stored bytes decode to an error or to a record that
// re-encodes to the same bytes; never a panic.
func FuzzDecodeRecord(f *testing.F) {
	key := seqKey(7)
	f.Add(key, appendRecord(nil, key, "agg/door-1", []byte(`{"entries":3}`), 1795398304019))
	f.Add(key, appendRecord(nil, key, "", nil, 0))
	f.Add(seqKey(1), []byte{0, 0, 0, 0, 1, 200})
	f.Add([]byte{1, 2}, []byte{})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		ms, topic, payload, err := decodeRecord(k, v)
		if err != nil {
			return
		}
		again := appendRecord(nil, k, string(topic), payload, ms)
		ms2, topic2, payload2, err := decodeRecord(k, again)
		if err != nil || ms2 != ms || !bytes.Equal(topic2, topic) || !bytes.Equal(payload2, payload) {
			t.Fatalf("re-encoded record decodes to %d %q %q, %v; want %d %q %q", ms2, topic2, payload2, err, ms, topic, payload)
		}
	})
}

// FuzzDecodeMeta: damaged meta values are rejected, valid ones round-trip.
func FuzzDecodeMeta(f *testing.F) {
	f.Add(fileMeta{version: formatVersion, seq: 99, dropped: 3, depth: 10, bytes: 2900}.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := decodeFileMeta(b)
		if ok && !bytes.Equal(m.encode(), b) {
			t.Fatalf("meta %x decodes to %+v which encodes differently", b, m)
		}
	})
}
