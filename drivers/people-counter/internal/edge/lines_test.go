package edge

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// Lines of the tests, named as the two beams of a doorway.
const (
	A = 0
	B = 1
)

// step is one thing a watcher tells the core: an edge observation or a
// quiet timeout (settle), on line i, at ms, reading on.
type step struct {
	settle bool
	line   int
	at     int
	on     bool
}

func run(c *Lines, steps []step) []Change {
	var out []Change
	for _, s := range steps {
		if s.settle {
			out = c.Settle(s.line, ms(s.at), s.on, out)
		} else {
			out = c.Observe(s.line, ms(s.at), s.on, out)
		}
	}
	return out
}

func same(t *testing.T, got, want []Change) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d changes %v, want %v", len(got), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("change %d = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

func TestCoreDropsGlitchKeepsBlock(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	got := run(c, []step{
		{false, A, 0, true},  // glitch starts
		{false, A, 2, false}, // 2 ms later it is over
		{true, A, 12, false}, // quiet for the window: back to clear, nothing to say
		{false, A, 100, true},
		{true, A, 109, true}, // 9 ms quiet: not yet
		{true, A, 110, true}, // 10 ms: blocked since 100
		{false, A, 150, false},
		{true, A, 160, false}, // the 50 ms block is over
	})
	same(t, got, []Change{{A, true, ms(100)}, {A, false, ms(150)}})
}

func TestCoreBouncyEdgeStampedAtFirstEdge(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	got := run(c, []step{
		{false, A, 0, true}, {false, A, 1, false}, {false, A, 3, true},
		{true, A, 13, true},
	})
	same(t, got, []Change{{A, true, ms(0)}})
}

func TestCoreHoldsChangeBehindOlderBurst(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	got := run(c, []step{
		{false, A, 0, true}, // a starts bouncing
		{false, B, 20, true},
		{false, A, 25, false},
		{false, A, 30, true},
		{true, B, 30, true}, // b settled (blocked at 20) but a's burst began at 0
	})
	if len(got) != 0 {
		t.Fatalf("b released before a's older burst settled: %v", got)
	}
	got = run(c, []step{{true, A, 40, true}})
	same(t, got, []Change{{A, true, ms(0)}, {B, true, ms(20)}})
}

func TestCoreLevelMovedWithoutEdge(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	got := run(c, []step{
		{true, B, 250, true}, // idle poll finds b blocked, no edge came
		{true, B, 255, true},
		{true, B, 260, true},
	})
	same(t, got, []Change{{B, true, ms(250)}})
}

func TestCoreFlappingLineDoesNotBlockForever(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	steps := []step{{false, A, 0, true}, {false, B, 5, true}, {true, B, 15, true}}
	on := false
	for at := 5; at <= 1100; at += 5 { // a never settles
		steps = append(steps, step{false, A, at, on})
		on = !on
	}
	got := run(c, steps)
	same(t, got, []Change{{B, true, ms(5)}})
}

func TestCoreAtNeverGoesBack(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	got := run(c, []step{
		{false, A, 100, true}, {true, A, 110, true},
		{false, B, 90, true}, {true, B, 100, true}, // a clock that stepped back
	})
	same(t, got, []Change{{A, true, ms(100)}, {B, true, ms(100)}})
}

func TestCoreDueIsWindowAfterLastObservation(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	if _, open := c.Due(A); open {
		t.Fatal("due with no burst open")
	}
	run(c, []step{{false, A, 0, true}, {false, A, 3, false}})
	if due, open := c.Due(A); !open || !due.Equal(ms(13)) {
		t.Fatalf("Due = %s %t, want 13 ms (3 ms + window)", due, open)
	}
	if _, open := c.Due(B); open {
		t.Fatal("b due with no burst of its own")
	}
	run(c, []step{{true, A, 13, false}})
	if _, open := c.Due(A); open {
		t.Fatal("still due after the burst settled")
	}
}

// The 100-window bound is exact: a burst open for 100 windows still holds
// the others back; past that it does not.
func TestCoreFlappingLineHoldsForMaxBlockWindows(t *testing.T) {
	c := NewLines(10*time.Millisecond, []bool{false, false})
	got := run(c, []step{{false, A, 0, true}, {false, B, 5, true}, {true, B, 15, true}})
	for at := 20; at <= 1000; at += 20 { // a flaps until exactly 100 windows
		got = run(c, []step{{false, A, at, at%40 == 0}})
		if len(got) != 0 {
			t.Fatalf("b released at %d ms, within 100 windows of a's burst: %v", at, got)
		}
	}
	got = run(c, []step{{false, A, 1001, false}})
	same(t, got, []Change{{B, true, ms(5)}})
}
