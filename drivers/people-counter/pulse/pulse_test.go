package pulse

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
)

func next(t *testing.T, d *Dev) Pulse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := d.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return p
}

// press makes an open-collector output active (low) for d, then lets go.
func press(p *pintest.Pin, d time.Duration) {
	p.Set(gpio.Low)
	time.Sleep(d)
	p.Release()
}

func TestDevCountsPulsesIgnoresGlitches(t *testing.T) {
	in, out := pintest.New("GPIO23", 23), pintest.New("GPIO24", 24)
	d, err := New(map[string]gpio.PinIn{"in": in, "out": out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	if lv, _ := d.Levels(); lv["in"] || lv["out"] {
		t.Fatalf("Levels = %v, want nothing active with the pull-up", lv)
	}
	in.Set(gpio.Low) // a glitch with no width
	in.Release()
	time.Sleep(30 * time.Millisecond)

	start := time.Now()
	press(in, 60*time.Millisecond)
	press(out, 60*time.Millisecond)
	press(in, 60*time.Millisecond)
	for i, want := range []string{"in", "out", "in"} {
		p := next(t, d)
		if p.Line != want {
			t.Fatalf("pulse %d on %q, want %q", i, p.Line, want)
		}
		if p.Start.Before(start) || p.Duration() < 50*time.Millisecond {
			t.Fatalf("pulse %d = %v: starts before the test or too short", i, p)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if p, err := d.Next(ctx); err == nil {
		t.Fatalf("extra pulse %v (the glitch?)", p)
	}
	if s := d.Stats(); s.Pulses != 3 || s.Edges["in"] != 6 || s.Edges["out"] != 2 {
		t.Fatalf("stats %+v, want 3 pulses, 6 edges on in, 2 on out", s)
	}
}

func TestHaltUnblocks(t *testing.T) {
	pass := pintest.New("GPIO25", 25)
	d, err := New(map[string]gpio.PinIn{"pass": pass}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { _, err := d.Next(context.Background()); got <- err }()
	time.Sleep(10 * time.Millisecond)
	_ = d.Halt()
	select {
	case err := <-got:
		if !errors.Is(err, ErrHalted) {
			t.Fatalf("Next = %v, want ErrHalted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Halt did not wake Next")
	}
	if s := pass.Stats(); s.Waiting != 0 {
		t.Fatalf("watcher still waiting on the pin: %+v", s)
	}
}

func TestNewErrors(t *testing.T) {
	p := pintest.New("GPIO23", 23)
	cases := map[string]struct {
		lines map[string]gpio.PinIn
		opts  *Opts
	}{
		"no lines":       {map[string]gpio.PinIn{}, nil},
		"nil pin":        {map[string]gpio.PinIn{"in": nil}, nil},
		"empty name":     {map[string]gpio.PinIn{"": p}, nil},
		"same pin twice": {map[string]gpio.PinIn{"in": p, "out": p}, nil},
		"debounce >= min": {map[string]gpio.PinIn{"in": p},
			&Opts{MinPulse: 10 * time.Millisecond, Debounce: 10 * time.Millisecond}},
		"negative": {map[string]gpio.PinIn{"in": p}, &Opts{MinPulse: -1}},
	}
	for name, c := range cases {
		if d, err := New(c.lines, c.opts); err == nil {
			_ = d.Halt()
			t.Errorf("%s: accepted", name)
		}
	}
}
