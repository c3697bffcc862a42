package pir

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
)

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

func TestDevMotionEpisode(t *testing.T) {
	p := pintest.New("GPIO27", 27)
	o := DefaultOpts
	o.Hold = 150 * time.Millisecond
	d, err := New(p, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	p.Set(gpio.High) // a spike: ignored
	p.Set(gpio.Low)
	time.Sleep(30 * time.Millisecond)
	p.Set(gpio.High)
	time.Sleep(400 * time.Millisecond) // motion for 250 ms, then the 150 ms hold
	p.Set(gpio.Low)

	start := next(t, d)
	end := next(t, d)
	if !start.Motion || end.Motion {
		t.Fatalf("got %v then %v, want a start then an end", start, end)
	}
	if held := end.At.Sub(end.LastMotion); held != 150*time.Millisecond {
		t.Fatalf("LastMotion is %s before the fall, want Hold (150 ms)", held)
	}
	if high := end.At.Sub(start.At); high < 400*time.Millisecond {
		t.Fatalf("episode lasted %s, want >= 400 ms", high)
	}
	if on, err := d.Level(); err != nil || on {
		t.Fatalf("Level = %t, %v", on, err)
	}
}

func TestDevAlreadyHighAtStart(t *testing.T) {
	p := pintest.New("GPIO27", 27)
	p.Set(gpio.High)
	d, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	if c := next(t, d); !c.Motion {
		t.Fatalf("first change %v, want a start", c)
	}
}

func TestDevHalt(t *testing.T) {
	p := pintest.New("GPIO27", 27)
	d, err := New(p, nil)
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
			t.Fatalf("Next = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Halt did not wake Next")
	}
	if s := p.Stats(); s.Waiting != 0 {
		t.Fatalf("watcher still waiting: %+v", s)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(nil, nil); err == nil {
		t.Error("nil pin accepted")
	}
	if _, err := New(pintest.New("x", 1), &Opts{Hold: -time.Second}); err == nil {
		t.Error("negative hold accepted")
	}
}
