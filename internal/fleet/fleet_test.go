package fleet

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// runAndCheck runs the fleet (two minutes at most) and checks its summary.
func runAndCheck(t *testing.T, o Options) *Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, s, o)
	return s
}

// checkSummary asserts what every fleet run must show: nothing lost,
// everything delivered, reconnects spread within the bound, fresh windows
// within seconds while the backlog drained.
func checkSummary(t *testing.T, s *Summary, o Options) {
	t.Helper()
	b, _ := json.MarshalIndent(s, "", "  ")
	t.Logf("summary:\n%s", b)
	if s.WindowsCommitted == 0 {
		t.Fatal("nothing committed")
	}
	if s.Lost != 0 || s.Dropped != 0 {
		t.Errorf("lost %d (dropped %d) of %d committed windows", s.Lost, s.Dropped, s.WindowsCommitted)
	}
	if s.WindowsDelivered != s.WindowsCommitted || s.InOutbox != 0 {
		t.Errorf("delivered %d of %d committed windows, %d still in outboxes", s.WindowsDelivered, s.WindowsCommitted, s.InOutbox)
	}
	if s.Invalid != 0 {
		t.Errorf("%d invalid messages", s.Invalid)
	}
	// every store reconnected after the outage; once, mostly
	if s.Reconnects < o.Stores {
		t.Errorf("%d reconnects after the outage, want at least one per store (%d)", s.Reconnects, o.Stores)
	}
	if float64(s.MaxConnectsPerS) > s.ConnectBoundPerS {
		t.Errorf("max %d connects/s, bound %.1f", s.MaxConnectsPerS, s.ConnectBoundPerS)
	}
	spread := min(o.ReconnectSpread, o.BackoffMax).Seconds()
	if s.ReconnectSpreadS > spread+2 {
		t.Errorf("reconnects spread over %.1fs, want within the %.0fs window", s.ReconnectSpreadS, spread)
	}
	// the connects did spread: not (nearly) all in one second. The head of
	// a full-jitter wave is about 2N/W a second by design, which for a
	// short test window is already half the fleet, and a loaded machine
	// bunches timers further: the rate itself is checked against the
	// bound above, this only catches a fleet that did not spread at all.
	if o.Stores >= 20 && s.MaxConnectsPerS >= o.Stores*4/5 {
		t.Errorf("%d of %d stores reconnected in one second: no spread", s.MaxConnectsPerS, o.Stores)
	}
	if s.HistoricalWindows == 0 {
		t.Error("no window came from a backlog: was there an outage?")
	}
	if s.LiveWindows == 0 || s.LiveLatencyP99S > 5 {
		t.Errorf("fresh windows after the outage: %d, p99 latency %.2fs, want some within 5s", s.LiveWindows, s.LiveLatencyP99S)
	}
}

func TestFleetEmbeddedIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("a fleet run takes seconds")
	}
	o := Options{Stores: 10, Speedup: 60, Outage: 10 * time.Minute, Warmup: 3 * time.Minute, Tail: 2 * time.Second,
		Dir: t.TempDir(), ReconnectSpread: 3 * time.Second, BackoffMax: 3 * time.Second, BacklogRate: 200,
		Progress: t.Logf}
	runAndCheck(t, o)
}
