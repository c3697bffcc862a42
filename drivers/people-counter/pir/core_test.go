package pir

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// every returns triggers from..to (inclusive) every step.
func every(from, to, step time.Duration) []time.Time {
	var ts []time.Time
	for d := from; d <= to; d += step {
		ts = append(ts, at(d))
	}
	return ts
}

// drive feeds the high spans to a core as a clean output line would appear
// to the watcher, then lets time run to end.
func drive(o Opts, spans []Span, end time.Time) []Change {
	c := newCore(o, false, t0)
	var out []Change
	tick := func(t time.Time, on bool) {
		// the watcher's timeouts: settle at every due time before t
		for {
			due, ok := c.due()
			if !ok || due.After(t) {
				break
			}
			out = c.settle(due, !on, out)
		}
	}
	for _, s := range spans {
		tick(s.Start, true)
		out = c.observe(s.Start, true, out)
		tick(s.End, false)
		out = c.observe(s.End, false, out)
	}
	for {
		due, ok := c.due()
		if !ok || due.After(end) {
			break
		}
		out = c.settle(due, false, out)
	}
	return out
}

func opts(retrigger bool) Opts {
	o := DefaultOpts
	o.Retrigger = retrigger
	return o
}

func TestRetriggerExtendsHold(t *testing.T) {
	m := Module{Hold: 3 * time.Second, Block: 2500 * time.Millisecond, Retrigger: true}
	spans := m.Output(every(0, 5*time.Second, 500*time.Millisecond)) // 5 s of motion
	if len(spans) != 1 || spans[0].Start != at(0) || spans[0].End != at(8*time.Second) {
		t.Fatalf("module output %v, want one span 0..8 s (last motion 5 s + hold 3 s)", spans)
	}
	got := drive(opts(true), spans, at(time.Minute))
	want := []Change{
		{Motion: true, At: at(0), LastMotion: at(0)},
		{Motion: false, At: at(8 * time.Second), LastMotion: at(5 * time.Second)},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("changes %v, want %v", got, want)
	}
}

func TestSingleTriggerEpisodesMerged(t *testing.T) {
	m := Module{Hold: 3 * time.Second, Block: 2500 * time.Millisecond}
	spans := m.Output(every(0, 10*time.Second, 500*time.Millisecond))
	// high 0..3, blind until 5.5, high 5.5..8.5, blind until 11
	if len(spans) != 2 || spans[1].Start != at(5500*time.Millisecond) || spans[1].End != at(8500*time.Millisecond) {
		t.Fatalf("module output %v, want 0..3 s and 5.5..8.5 s", spans)
	}
	got := drive(opts(false), spans, at(time.Minute))
	want := []Change{
		{Motion: true, At: at(0), LastMotion: at(0)},
		{Motion: false, At: at(8500 * time.Millisecond), LastMotion: at(5500 * time.Millisecond)},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("changes %v, want one episode %v", got, want)
	}
}

func TestSingleTriggerLongGapIsTwoEpisodes(t *testing.T) {
	m := Module{Hold: 3 * time.Second, Block: 2500 * time.Millisecond}
	spans := m.Output([]time.Time{at(0), at(20 * time.Second)})
	got := drive(opts(false), spans, at(time.Minute))
	if len(got) != 4 || !got[0].Motion || got[1].Motion || got[1].At != at(3*time.Second) || !got[2].Motion || got[2].At != at(20*time.Second) {
		t.Fatalf("changes %v, want start 0, end 3 s, start 20 s, end 23 s", got)
	}
}

func TestStopNotBeforeRise(t *testing.T) {
	// The output was high for less than the configured Hold (a module set
	// shorter than Opts says): the last motion is the rise, not before it.
	got := drive(opts(true), []Span{{at(time.Second), at(2 * time.Second)}}, at(time.Minute))
	if len(got) != 2 || got[1].LastMotion != at(time.Second) {
		t.Fatalf("changes %v, want the end's LastMotion at the rise (1 s)", got)
	}
}

func TestGlitchIgnored(t *testing.T) {
	c := newCore(DefaultOpts, false, t0)
	var out []Change
	out = c.observe(at(0), true, out)
	out = c.observe(at(2*time.Millisecond), false, out)
	out = c.settle(at(20*time.Millisecond), false, out)
	if len(out) != 0 {
		t.Fatalf("a 2 ms spike became %v", out)
	}
}

func TestModuleRetriggerIgnoresBlindTime(t *testing.T) {
	m := Module{Hold: time.Second, Block: time.Second, Retrigger: true}
	// trigger at 0 -> high until 1 s, blind until 2 s; 1.5 s is ignored, 2.5 s is not
	spans := m.Output([]time.Time{at(2500 * time.Millisecond), at(0), at(1500 * time.Millisecond)})
	if len(spans) != 2 || spans[1].Start != at(2500*time.Millisecond) {
		t.Fatalf("spans %v, want 0..1 s and 2.5..3.5 s", spans)
	}
}
