package beam

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
)

func newPair(t *testing.T, opts *Opts) (*Dev, *pintest.Pin, *pintest.Pin) {
	t.Helper()
	a, b := pintest.New("GPIO5", 5), pintest.New("GPIO6", 6)
	d, err := New(a, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Halt() })
	return d, a, b
}

func next(t *testing.T, d *Dev) Change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return c
}

func TestDevReportsCrossingInOrderAndDropsGlitch(t *testing.T) {
	d, a, b := newPair(t, nil) // pull-up, active low: undriven lines read clear
	if ga, gb, err := d.Levels(); err != nil || ga || gb {
		t.Fatalf("Levels = %t %t %v, want both clear", ga, gb, err)
	}
	// A glitch on a: low and back high with no time in between.
	a.Set(gpio.Low)
	a.Set(gpio.High)
	time.Sleep(50 * time.Millisecond)

	// A person walks in: a blocked, then b, then a clears, then b.
	before := time.Now()
	a.Set(gpio.Low)
	time.Sleep(30 * time.Millisecond)
	b.Set(gpio.Low)
	time.Sleep(50 * time.Millisecond)
	a.Set(gpio.High)
	time.Sleep(30 * time.Millisecond)
	b.Set(gpio.High)

	want := []struct {
		beam    int
		blocked bool
	}{{A, true}, {B, true}, {A, false}, {B, false}}
	var last time.Time
	for i, w := range want {
		c := next(t, d)
		if c.Beam != w.beam || c.Blocked != w.blocked {
			t.Fatalf("change %d = %v, want beam %d blocked=%t", i, c, w.beam, w.blocked)
		}
		if c.At.Before(before) || c.At.Before(last) {
			t.Fatalf("change %d at %s: before the crossing or out of order", i, c.At)
		}
		last = c.At
	}
	if s := d.Stats(); s.Changes != 4 || s.Edges[A] != 4 || s.Edges[B] != 2 {
		t.Fatalf("stats %+v, want 4 changes, 4 edges on a (glitch included), 2 on b", s)
	}
}

func TestDevActiveHighAndInitiallyBlocked(t *testing.T) {
	a, b := pintest.New("GPIO5", 5), pintest.New("GPIO6", 6)
	a.Set(gpio.High) // active high receiver, beam a already blocked at start
	o := DefaultOpts
	o.Pull, o.ActiveLow = gpio.PullDown, false
	d, err := New(a, b, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	if ga, gb, _ := d.Levels(); !ga || gb {
		t.Fatalf("Levels = %t %t, want a blocked, b clear", ga, gb)
	}
	a.Set(gpio.Low)
	if c := next(t, d); c.Beam != A || c.Blocked {
		t.Fatalf("got %v, want a clear", c)
	}
}

func TestDevUsesNow(t *testing.T) {
	offset := 1000 * time.Hour
	o := DefaultOpts
	o.Now = func() time.Time { return time.Now().Add(offset) }
	d, a, _ := newPair(t, &o)
	a.Set(gpio.Low)
	if c := next(t, d); time.Until(c.At) < offset/2 {
		t.Fatalf("At %s is not on the injected clock", c.At)
	}
}

func TestHaltEndsWatchersAndNext(t *testing.T) {
	d, a, b := newPair(t, nil)
	got := make(chan error)
	go func() {
		_, err := d.Next(context.Background())
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, ErrHalted) {
			t.Fatalf("Next after Halt = %v, want ErrHalted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Halt did not wake Next")
	}
	for _, p := range []*pintest.Pin{a, b} {
		if s := p.Stats(); s.Waiting != 0 || s.Halts != 1 {
			t.Fatalf("%s after Halt: %+v, want no waiter and one Halt", p, s)
		}
	}
	if _, _, err := d.Levels(); !errors.Is(err, ErrHalted) {
		t.Fatalf("Levels after Halt = %v", err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal("second Halt failed:", err)
	}
}

func TestNextHonoursContext(t *testing.T) {
	d, _, _ := newPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := d.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, want deadline exceeded", err)
	}
}

func TestNewErrors(t *testing.T) {
	a := pintest.New("GPIO5", 5)
	if _, err := New(a, a, nil); err == nil {
		t.Error("same pin twice accepted")
	}
	if _, err := New(a, nil, nil); err == nil {
		t.Error("nil pin accepted")
	}
	if _, err := New(a, pintest.New("GPIO6", 6), &Opts{Debounce: -time.Millisecond}); err == nil {
		t.Error("negative debounce accepted")
	}
	closed := pintest.New("GPIO7", 7)
	_ = closed.Close()
	if _, err := New(a, closed, nil); err == nil {
		t.Error("a pin failing In accepted")
	}
}
