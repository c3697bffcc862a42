package sync

import (
	"testing"
	"time"
)

// An unlimited backlog drain (backlog_rate 0) never waits, yet a live
// record committed during it goes out next, not after the whole backlog.
func TestUnlimitedDrainLiveOvertakes(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"#")
	ob := newMemOutbox()
	const backlog = 30000
	for i := 0; i < backlog; i++ {
		ob.add("agg/door")
	}
	cfg := testConfig(b.URL())
	cfg.BacklogRate = 0
	cfg.BatchSize = 500
	p := newPublisher(t, cfg, ob)
	runPublisher(t, p)
	waitFor(t, 20*time.Second, "the drain under way", func() bool { return p.Status().Acked >= 3000 })
	live := ob.add("store")
	waitFor(t, 60*time.Second, "everything acked", func() bool { return ob.pendingCount() == 0 })
	pos := -1
	for i, m := range rec.all() {
		if m.Seq == live {
			pos = i
			break
		}
	}
	// Before it: what was sent when it was committed (acked + in flight)
	// and a few more; never most of the backlog.
	if pos < 0 || pos > backlog/2 {
		t.Fatalf("live record arrived at position %d of %d: it waited for the backlog", pos, backlog+1)
	}
	t.Logf("live record arrived at position %d of %d", pos, backlog+1)
}
