package sync

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// bboltOutbox is the real outbox behind the publisher's interface, as the
// agent wires it.
type bboltOutbox struct{ ob *buffer.Outbox }

func (o bboltOutbox) Pending(after uint64, max int) ([]Record, error) {
	rs, err := o.ob.Pending(after, max)
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = Record(r)
	}
	return out, err
}
func (o bboltOutbox) Ack(seqs ...uint64)         { o.ob.Ack(seqs...) }
func (o bboltOutbox) Committed() <-chan struct{} { return o.ob.Committed() }
func (o bboltOutbox) LastSeq() uint64            { return o.ob.Stats().LastSeq }

// BenchmarkDurableDrain drains b.N records from a bbolt outbox to a local
// mosquitto at QoS 1 (backlog_rate 0, 1000 in flight, batches of 500),
// while a pipeline goroutine commits every second as the agent does (acks
// are deleted by those commits). The clock stops when the outbox is empty.
//
//	go test -run '^$' -bench DurableDrain -benchtime 1000000x ./internal/sync/
func BenchmarkDurableDrain(b *testing.B) {
	br := mosquitto.Start(b, mosquitto.Options{})
	opts := buffer.DefaultOptions()
	opts.MaxBytes = 2 << 30
	ob, err := buffer.Open(filepath.Join(b.TempDir(), "outbox.db"), opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	for i := 0; i < b.N; i++ {
		ob.Stage("agg/door", benchPayload)
		if i%10000 == 9999 {
			if err := ob.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := ob.Commit(); err != nil {
		b.Fatal(err)
	}
	commits := 0
	timeDrain(b, br.URL(), bboltOutbox{ob}, 500, func() {
		flush := time.NewTicker(opts.FlushInterval)
		defer flush.Stop()
		for ob.Stats().Depth > 0 {
			select {
			case <-flush.C:
				if err := ob.Commit(); err != nil {
					b.Fatal(err)
				}
				commits++
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	b.ReportMetric(float64(commits), "commits")
}

// timeDrain runs a publisher (backlog_rate 0, 1000 in flight, batch
// records a read) on ob until drained returns, and reports msg/s and the
// process's CPU per message over that time.
func timeDrain(b *testing.B, url string, ob Outbox, batch int, drained func()) {
	cfg := testConfig(url)
	cfg.BacklogRate = 0
	cfg.BatchSize = batch
	cfg.MaxInflight = 1000
	p, err := New(cfg, ob, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	go func() { defer close(done); _ = p.Run(ctx) }()
	drained()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	cancel()
	<-done
	if st := p.Status(); st.Acked < uint64(b.N) {
		b.Fatalf("acked %d of %d", st.Acked, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}
