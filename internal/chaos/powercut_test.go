package chaos

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/omo-edge/edge-agent/internal/buffer"
)

// commitN stages n records on topic and commits them.
func commitN(t *testing.T, o *buffer.Outbox, n int, topic string) {
	t.Helper()
	for range n {
		o.Stage(topic, func(seq uint64) []byte { return fmt.Appendf(nil, `{"seq":%d,"pad":"%0300d"}`, seq, seq) })
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A torn copy of a real outbox opens clean and holds exactly the synced
// commit, or (when the next commit's meta page survived) that one: the
// model never loses a synced commit and never invents a half one.
func TestTornImageOfRealOutbox(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox.db")
	o, err := buffer.Open(path, buffer.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, o, 200, "agg/a")
	recs, err := o.Pending(0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		o.Ack(r.Seq)
	}
	commitN(t, o, 30, "agg/a") // frees pages the next commit reuses
	syncedSeq, syncedDepth := o.Stats().LastSeq, o.Stats().Depth
	synced, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ = o.Pending(0, 40)
	for _, r := range recs {
		o.Ack(r.Seq)
	}
	commitN(t, o, 150, "agg/b")
	liveSeq, liveDepth := o.Stats().LastSeq, o.Stats().Depth
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	live, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The same commit stopped between its data pages and its meta page.
	ps := 16 << 10
	beforeMeta := append([]byte(nil), live...)
	copy(beforeMeta[:2*ps], synced[:2*ps])

	rng := rand.New(rand.NewPCG(3, 4))
	var metaKept, metaLost int
	for i := range 60 {
		src := live
		if i%2 == 0 {
			src = beforeMeta
		}
		img, tear, err := TornImage(synced, src, rng)
		if err != nil {
			t.Fatal(err)
		}
		if tear.Chunks == 0 {
			t.Fatal("no chunk differs between two commits")
		}
		if tear.MetaWritten != (i%2 == 1) {
			t.Fatalf("tear %d: %s: the meta page was written only in the odd cases", i, tear)
		}
		p := filepath.Join(t.TempDir(), "torn.db")
		if err := os.WriteFile(p, img, 0o600); err != nil {
			t.Fatal(err)
		}
		ob, err := buffer.Open(p, buffer.DefaultOptions(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		st := ob.Stats()
		ob.Close()
		wantSeq, wantDepth := syncedSeq, syncedDepth
		if tear.MetaKept {
			wantSeq, wantDepth = liveSeq, liveDepth
			metaKept++
		} else {
			metaLost++
		}
		if st.MovedAside != 0 || st.LastSeq != wantSeq || st.Depth != wantDepth {
			t.Fatalf("tear %d (%s): opened with moved aside %d, last seq %d depth %d; want %d, %d",
				i, tear, st.MovedAside, st.LastSeq, st.Depth, wantSeq, wantDepth)
		}
	}
	if metaKept == 0 || metaLost == 0 {
		t.Fatalf("meta kept %d times, lost %d: both outcomes must be drawn", metaKept, metaLost)
	}
}

func TestTornImageRejectsNonBbolt(t *testing.T) {
	if _, _, err := TornImage(make([]byte, 100), make([]byte, 100), rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("a 100-byte image was accepted")
	}
	if _, _, err := TornImage(make([]byte, 1<<16), make([]byte, 1<<16), rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("an image with page size 0 was accepted")
	}
}
