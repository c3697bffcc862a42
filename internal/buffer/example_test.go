package buffer_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/omo-edge/edge-agent/internal/buffer"
)

// The pipeline stages closed windows with the aggregator's state and
// commits; the publisher reads what is committed and acks what the broker
// confirmed. The acks are deleted by the next commit.
func Example() {
	dir, _ := os.MkdirTemp("", "outbox")
	defer os.RemoveAll(dir)
	log := slog.New(slog.DiscardHandler)

	ob, err := buffer.Open(filepath.Join(dir, "outbox.db"), buffer.DefaultOptions(), log)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Pipeline goroutine: a window closed.
	ob.Stage("agg/door-1", func(seq uint64) []byte {
		return fmt.Appendf(nil, `{"seq":%d,"entries":4}`, seq)
	})
	ob.SetState("aggregator", []byte("open window: entries=1"))
	if err := ob.Commit(); err != nil { // one fsynced transaction
		fmt.Println(err)
	}

	// Publisher goroutine.
	recs, _ := ob.Pending(0, 100)
	for _, r := range recs {
		fmt.Printf("publish %s %s\n", r.Topic, r.Payload)
		ob.Ack(r.Seq) // on PUBACK
	}
	_ = ob.Close() // commits the acks

	ob, _ = buffer.Open(filepath.Join(dir, "outbox.db"), buffer.DefaultOptions(), log)
	defer ob.Close()
	st, _ := ob.State("aggregator")
	s := ob.Stats()
	fmt.Printf("after restart: depth %d, last seq %d, state %q\n", s.Depth, s.LastSeq, st)
	// Output:
	// publish agg/door-1 {"seq":1,"entries":4}
	// after restart: depth 0, last seq 1, state "open window: entries=1"
}
