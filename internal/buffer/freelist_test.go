package buffer

import (
	"bytes"
	"path/filepath"
	"testing"
)

// After a large drain the freelist holds more page ids than a page holds
// 16-byte elements (a 16 KiB page: 1023). That file is sound and must open
// as it is, not be moved aside with what is left in it.
func TestOpenAfterLargeDrain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	opts := DefaultOptions()
	o, _ := open(t, path, opts)
	big := bytes.Repeat([]byte("x"), 300)
	const n = 80000 // ~26 MB: ~1600 pages of 16 KiB freed by the acks
	for i := 0; i < n; i++ {
		o.Stage("agg/door", func(uint64) []byte { return big })
		if i%10000 == 9999 {
			if err := o.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	seqs := make([]uint64, 0, n-10)
	for s := uint64(1); s <= n-10; s++ {
		seqs = append(seqs, s)
	}
	o.Ack(seqs...)
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	o, lb := open(t, path, opts)
	defer o.Close()
	st := o.Stats()
	if st.MovedAside != 0 || st.Depth != 10 || st.LastSeq != n {
		t.Fatalf("reopened after the drain: %+v\n%s", st, lb)
	}
}
