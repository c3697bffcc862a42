package pulse

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

type step struct {
	settle bool
	line   int
	at     int
	on     bool
}

// feed runs steps through the debouncing core and the per-line assemblers,
// as the watchers do, and returns the pulses and the glitch count.
func feed(initial []bool, steps []step) ([]Pulse, int) {
	h := newPulses(5*time.Millisecond, 20*time.Millisecond, []string{"in", "out"}[:len(initial)], initial)
	var pulses []Pulse
	for _, s := range steps {
		if s.settle {
			pulses = h.Settle(s.line, ms(s.at), s.on, pulses)
		} else {
			pulses = h.Observe(s.line, ms(s.at), s.on, pulses)
		}
	}
	return pulses, h.glitches
}

func TestFiveMsPulseIgnoredFiftyMsCounted(t *testing.T) {
	pulses, glitches := feed([]bool{false}, []step{
		{false, 0, 0, true}, {true, 0, 5, true}, // active, stable for the 5 ms debounce
		{false, 0, 5, false}, {true, 0, 10, false}, // inactive again after 5 ms: too short
		{false, 0, 100, true}, {true, 0, 105, true},
		{false, 0, 150, false}, {true, 0, 155, false}, // a 50 ms pulse
	})
	if glitches != 1 {
		t.Fatalf("glitches = %d, want the 5 ms pulse counted as one", glitches)
	}
	if len(pulses) != 1 || pulses[0].Start != ms(100) || pulses[0].End != ms(150) {
		t.Fatalf("pulses = %v, want one from 100 to 150 ms", pulses)
	}
}

func TestMinPulseBoundary(t *testing.T) {
	pulses, glitches := feed([]bool{false}, []step{
		{false, 0, 0, true}, {true, 0, 5, true},
		{false, 0, 19, false}, {true, 0, 24, false}, // 19 ms: short
		{false, 0, 100, true}, {true, 0, 105, true},
		{false, 0, 120, false}, {true, 0, 125, false}, // exactly 20 ms: counts
	})
	if glitches != 1 || len(pulses) != 1 || pulses[0].Duration() != 20*time.Millisecond {
		t.Fatalf("pulses %v glitches %d, want the 20 ms pulse only", pulses, glitches)
	}
}

func TestRelayBounceCountsOnce(t *testing.T) {
	pulses, _ := feed([]bool{false}, []step{
		// contact closes with 3 ms of bounce
		{false, 0, 0, true}, {false, 0, 1, false}, {false, 0, 2, true}, {false, 0, 3, true},
		{true, 0, 8, true},
		// and opens with bounce
		{false, 0, 80, false}, {false, 0, 81, true}, {false, 0, 82, false},
		{true, 0, 87, false},
	})
	if len(pulses) != 1 || pulses[0].Start != ms(0) || pulses[0].End != ms(80) {
		t.Fatalf("pulses = %v, want one from 0 to 80 ms", pulses)
	}
}

func TestPulsesOrderedByEndAcrossLines(t *testing.T) {
	pulses, _ := feed([]bool{false, false}, []step{
		{false, 0, 0, true}, {true, 0, 5, true}, // in active at 0
		{false, 1, 10, true}, {true, 1, 15, true}, // out active at 10
		{false, 0, 58, false}, {false, 0, 59, true}, {false, 0, 62, false}, // in ends at 58, bouncing
		{false, 1, 60, false}, // out ends at 60
		{true, 1, 65, false},  // out settles first ...
		{true, 0, 67, false},  // ... but in's end (58) is earlier
	})
	if len(pulses) != 2 || pulses[0].Line != "in" || pulses[1].Line != "out" {
		t.Fatalf("pulses = %v, want in (end 58) then out (end 60)", pulses)
	}
	if pulses[0].End != ms(58) || pulses[1].End != ms(60) {
		t.Fatalf("ends %s %s, want 58 and 60 ms", pulses[0].End, pulses[1].End)
	}
}

func TestLineActiveAtStartIsNotAPulse(t *testing.T) {
	pulses, glitches := feed([]bool{true}, []step{
		{false, 0, 0, false}, {true, 0, 5, false}, // end of a pulse whose start we never saw
	})
	if len(pulses) != 0 || glitches != 0 {
		t.Fatalf("pulses %v glitches %d, want nothing", pulses, glitches)
	}
}
