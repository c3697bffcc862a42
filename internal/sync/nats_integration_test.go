package sync

import (
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/testutil/nats"
)

// NATS 2.9 acknowledges QoS 1 publishes it then loses on a clean restart
// (the last ~20 ms of a stream, docs/RELIABILITY.md). With the default
// ack_settle those records are still in the outbox when the connection
// drops, and are sent again: under a record every millisecond through a
// NATS restart, every record reaches a persistent subscriber.
func TestPublisherIntegrationNATSRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	b := nats.Start(t, nats.Options{AckWait: 2 * time.Second})
	cloud := subscribeURL(t, b.URL(), nil, "edge-agent/s1/a1/agg/#")
	ob := newMemOutbox()
	cfg := testConfig(b.URL())
	cfg.AckSettle = DefaultConfig().AckSettle
	cfg.BackoffMin, cfg.BackoffMax = 50*time.Millisecond, 200*time.Millisecond
	cfg.BacklogRate, cfg.BatchSize = 5000, 100
	p := newPublisher(t, cfg, ob)
	runPublisher(t, p)

	stopFlow := recordFlow(ob, time.Millisecond)
	time.Sleep(1500 * time.Millisecond)
	b.Stop()
	time.Sleep(500 * time.Millisecond)
	b.Restart()
	time.Sleep(time.Second)
	stopFlow()
	total := ob.LastSeq()
	waitFor(t, 20*time.Second, "outbox drained", func() bool { return ob.pendingCount() == 0 })
	missing := func() []uint64 {
		seen := map[string]bool{}
		for _, m := range cloud.all() {
			seen[m.ID] = true
		}
		var out []uint64
		for seq := uint64(1); seq <= total; seq++ {
			id := string(recordPayload(seq)[7:])
			if !seen[id[:strings.IndexByte(id, '"')]] {
				out = append(out, seq)
			}
		}
		return out
	}
	deadline := time.Now().Add(15 * time.Second) // NATS redelivers after its ack_wait
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Fatalf("%d of %d records acknowledged but never delivered, e.g. seq %v", len(m), total, m[:min(len(m), 10)])
	}
	t.Logf("%d records through a NATS restart, none lost; %d reconnects", total, p.Status().Reconnects)
}
