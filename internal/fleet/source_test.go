package fleet

import (
	"context"
	"testing"
	"time"
)

// The simulated counter emits whole pulses (rise then fall on one line),
// stamped in store time, at about the configured rate.
func TestPulseSource(t *testing.T) {
	c := NewClock(time.Now(), 600) // a store minute in 100 ms
	s := newPulseSource(c, 7, 60, 0, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond) // 5 store minutes
	defer cancel()
	type ev struct {
		ch int
		v  int64
		at time.Duration
	}
	var evs []ev
	if err := s.Run(ctx, func(ch int, v int64, _ []byte, at time.Time) {
		evs = append(evs, ev{ch, v, at.Sub(c.At(0))})
	}); err != nil {
		t.Fatal(err)
	}
	if len(evs) < 2 || evs[0].v != 0 || evs[1].v != 0 {
		t.Fatalf("lines not idle at start: %v", evs[:min(len(evs), 2)])
	}
	pulses := 0
	open := map[int]time.Duration{}
	last := time.Duration(-1)
	for _, e := range evs[2:] {
		if e.at < last {
			t.Fatalf("stamps go back: %v after %v", e.at, last)
		}
		last = e.at
		if e.ch != 0 && e.ch != 1 {
			t.Fatalf("channel %d, want 0 or 1", e.ch)
		}
		if e.v == 1 {
			open[e.ch] = e.at
			continue
		}
		rise, ok := open[e.ch]
		if !ok {
			t.Fatalf("fall without rise on %d", e.ch)
		}
		if d := e.at - rise; d < 150*time.Millisecond || d > 400*time.Millisecond {
			t.Errorf("pulse of %v, want 150..400ms", d)
		}
		delete(open, e.ch)
		pulses++
	}
	// 60 people a minute over about 5 store minutes
	if pulses < 150 || pulses > 450 {
		t.Errorf("%d pulses in 5 store minutes at 60/min", pulses)
	}
}
