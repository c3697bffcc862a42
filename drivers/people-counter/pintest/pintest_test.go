package pintest

import (
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

func armed(t *testing.T, pull gpio.Pull, edge gpio.Edge) *Pin {
	t.Helper()
	p := New("GPIO17", 17)
	if err := p.In(pull, edge); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEdgeWhileNobodyWaitsIsReportedOnce(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	p.Set(gpio.High)
	if !p.WaitForEdge(0) {
		t.Fatal("edge that happened before the wait was not reported")
	}
	if p.WaitForEdge(0) {
		t.Fatal("one edge was reported twice")
	}
	if got := p.Read(); got != gpio.High {
		t.Fatalf("Read = %s, want High", got)
	}
}

func TestReadIsCurrentLevelNotEdgeLevel(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	p.Set(gpio.High)
	p.Set(gpio.Low) // a glitch: two edges queued, line back low
	if got := p.Read(); got != gpio.Low {
		t.Fatalf("Read = %s, want Low (current level)", got)
	}
	n := 0
	for p.WaitForEdge(0) {
		n++
	}
	if n != 2 {
		t.Fatalf("reported %d edges, want 2", n)
	}
}

func TestEdgeKindFilter(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.RisingEdge)
	p.Set(gpio.High)
	p.Set(gpio.Low)
	p.Set(gpio.High)
	s := p.Stats()
	if s.Rising != 2 || s.Falling != 0 || s.Pending != 2 {
		t.Fatalf("stats %+v, want 2 rising queued, no falling", s)
	}
	p.Set(gpio.High) // no change, no edge
	if s := p.Stats(); s.Pending != 2 {
		t.Fatalf("setting the same level queued an edge: %+v", s)
	}
}

func TestNoEdgeDetectionNeverBlocks(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.NoEdge)
	p.Set(gpio.High)
	done := make(chan bool)
	go func() { done <- p.WaitForEdge(-1) }()
	select {
	case got := <-done:
		if got {
			t.Fatal("WaitForEdge reported an edge with edge detection off")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WaitForEdge(-1) blocked with edge detection off")
	}
}

func TestQueueOverflowDropsOldest(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	p.SetQueueLen(4)
	for i := 0; i < 10; i++ {
		p.Set(i%2 == 0)
	}
	s := p.Stats()
	if s.Pending != 4 || s.Dropped != 6 {
		t.Fatalf("stats %+v, want 4 pending and 6 dropped", s)
	}
}

func TestPullAppliesToUndrivenLine(t *testing.T) {
	p := armed(t, gpio.PullUp, gpio.BothEdges)
	if p.Read() != gpio.High {
		t.Fatal("undriven line with pull-up does not read high")
	}
	if p.WaitForEdge(0) {
		t.Fatal("applying the pull in In queued an edge")
	}
	p.Set(gpio.Low) // open collector switches on
	p.Release()     // and off: the pull-up takes the line back high
	if p.Read() != gpio.High {
		t.Fatal("released line did not return to the pull-up level")
	}
	if s := p.Stats(); s.Falling != 1 || s.Rising != 1 {
		t.Fatalf("stats %+v, want one falling and one rising edge", s)
	}
}

func TestInFlushesQueue(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	p.Set(gpio.High)
	if err := p.In(gpio.PullDown, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if p.WaitForEdge(0) {
		t.Fatal("edge from before In was reported")
	}
	if p.Read() != gpio.High {
		t.Fatal("In changed the level of a driven line")
	}
}

func TestWaitTimesOut(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	start := time.Now()
	if p.WaitForEdge(20 * time.Millisecond) {
		t.Fatal("reported an edge that never happened")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("returned after %s, before the timeout", d)
	}
	if s := p.Stats(); s.Waiting != 0 {
		t.Fatalf("waiter still counted: %+v", s)
	}
}

// waitBlocked waits until n goroutines are inside WaitForEdge.
func waitBlocked(t *testing.T, p *Pin, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Waiting != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiters = %d, want %d", p.Stats().Waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestForeverWaitWokenBySetHaltInClose(t *testing.T) {
	wake := map[string]struct {
		do   func(p *Pin)
		want bool
	}{
		"Set":   {func(p *Pin) { p.Set(gpio.High) }, true},
		"Halt":  {func(p *Pin) { _ = p.Halt() }, false},
		"In":    {func(p *Pin) { _ = p.In(gpio.PullDown, gpio.BothEdges) }, false},
		"Close": {func(p *Pin) { _ = p.Close() }, false},
	}
	for name, w := range wake {
		t.Run(name, func(t *testing.T) {
			p := armed(t, gpio.PullDown, gpio.BothEdges)
			done := make(chan bool)
			go func() { done <- p.WaitForEdge(-1) }()
			waitBlocked(t, p, 1)
			w.do(p)
			select {
			case got := <-done:
				if got != w.want {
					t.Fatalf("WaitForEdge = %t, want %t", got, w.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("WaitForEdge(-1) was not woken")
			}
			if s := p.Stats(); s.Waiting != 0 {
				t.Fatalf("waiter leaked: %+v", s)
			}
		})
	}
}

func TestHaltKeepsQueue(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	p.Set(gpio.High)
	_ = p.Halt()
	if !p.WaitForEdge(0) {
		t.Fatal("Halt dropped a queued edge")
	}
}

func TestClosedLineNeverWaits(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	_ = p.Close()
	p.Set(gpio.High)
	if p.WaitForEdge(-1) {
		t.Fatal("closed line reported an edge")
	}
	if p.Read() != gpio.High {
		t.Fatal("Read does not follow Set after Close")
	}
	if err := p.In(gpio.PullDown, gpio.BothEdges); err == nil {
		t.Fatal("In on a closed line did not fail")
	}
}

func TestEachEdgeGoesToOneWaiter(t *testing.T) {
	p := armed(t, gpio.PullDown, gpio.BothEdges)
	const waiters = 4
	var wg sync.WaitGroup
	results := make(chan bool, waiters)
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results <- p.WaitForEdge(-1) }()
	}
	waitBlocked(t, p, waiters)
	p.Set(gpio.High)
	p.Set(gpio.Low)
	waitBlocked(t, p, waiters-2) // two waiters took one edge each
	_ = p.Halt()                 // the others give up
	wg.Wait()
	close(results)
	got := 0
	for r := range results {
		if r {
			got++
		}
	}
	if got != 2 {
		t.Fatalf("%d waiters saw an edge, want 2 (one per edge)", got)
	}
}

func TestInvalidConfig(t *testing.T) {
	p := New("x", 1)
	if err := p.In(gpio.Pull(9), gpio.BothEdges); err == nil {
		t.Fatal("invalid pull accepted")
	}
	if err := p.In(gpio.PullUp, gpio.Edge(7)); err == nil {
		t.Fatal("invalid edge accepted")
	}
}
