package edge

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
)

var errHalted = errors.New("test: halted")

// armed returns n pintest pins pulled up and armed for both edges: active
// low, they start inactive.
func armed(t *testing.T, n int) []gpio.PinIn {
	t.Helper()
	pins := make([]gpio.PinIn, n)
	for i := range pins {
		p := pintest.New("GPIO"+string(rune('5'+i)), 5+i)
		if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
		pins[i] = p
	}
	return pins
}

func config() Config {
	return Config{ActiveLow: true, Now: time.Now, ErrHalted: errHalted}
}

// startLines watches pins through a Lines core, as the beam driver does.
func startLines(t *testing.T, pins []gpio.PinIn, window time.Duration) *Watcher[Change] {
	t.Helper()
	w := New[Change](pins, config())
	initial := make([]bool, len(pins))
	for i := range pins {
		initial[i] = w.Level(i)
	}
	w.Start(NewLines(window, initial))
	t.Cleanup(func() { _, _ = w.Halt() })
	return w
}

func next[T any](t *testing.T, w *Watcher[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it, err := w.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return it
}

// An edge is fed to Observe with the level read after it, stamped by
// cfg.Now; a wait that times out is fed to Settle; what they release is
// queued in order and counted.
func TestWatcherFeedsHandler(t *testing.T) {
	pins := armed(t, 2)
	a, b := pins[0].(*pintest.Pin), pins[1].(*pintest.Pin)
	cfg := config()
	offset := 1000 * time.Hour
	cfg.Now = func() time.Time { return time.Now().Add(offset) }
	w := New[reading](pins, cfg)
	h := &recorder{}
	w.Start(h)
	defer w.Halt()

	a.Set(gpio.Low) // active low: a is now on
	if r := next(t, w); r != (reading{line: A, on: true, edge: true}) {
		t.Fatalf("after a's edge: %+v, want an edge on a reading on", r)
	}
	b.Set(gpio.Low)
	b.Set(gpio.High) // two edges: the first may be read before or after the second
	if r := next(t, w); r.line != B || !r.edge {
		t.Fatalf("after b's first edge: %+v, want an edge on b", r)
	}
	if r := next(t, w); r != (reading{line: B, edge: true}) {
		t.Fatalf("after b's second edge: %+v, want an edge on b reading off", r)
	}
	h.mu.Lock()
	late := h.minAt.Before(time.Now().Add(offset / 2))
	h.mu.Unlock()
	if late {
		t.Fatal("readings are not stamped by cfg.Now")
	}
	if c := w.Counts(nil); c.Edges[A] != 1 || c.Edges[B] != 2 || c.Queued != 3 {
		t.Fatalf("counts %+v, want 1 edge on a, 2 on b, 3 queued", c)
	}
	h.mu.Lock()
	h.quiet = true // from now on Settle releases too
	h.mu.Unlock()
	if r := next(t, w); r.edge {
		t.Fatalf("got %+v, want a quiet reading after IdlePoll", r)
	}
}

func TestWatcherHaltWakesNextAndLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	pins := armed(t, 3)
	w := New[Change](pins, config())
	w.Start(NewLines(10*time.Millisecond, make([]bool, len(pins))))
	got := make(chan error)
	go func() {
		_, err := w.Next(context.Background())
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := w.Halt(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, errHalted) {
			t.Fatalf("Next after Halt = %v, want cfg.ErrHalted", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Halt did not wake Next")
	}
	for _, p := range pins {
		if s := p.(*pintest.Pin).Stats(); s.Waiting != 0 || s.Halts != 1 {
			t.Fatalf("%s after Halt: %+v, want no waiter and one Halt", p, s)
		}
	}
	if !w.Halted() {
		t.Fatal("Halted is false after Halt")
	}
	if _, err := w.Halt(); err != nil {
		t.Fatal("second Halt:", err)
	}
	if s := pins[0].(*pintest.Pin).Stats(); s.Halts != 1 {
		t.Fatalf("second Halt halted the pins again: %+v", s)
	}
	// The watchers have returned once Halt did; only the runtime may lag in
	// reaping them.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Halt, %d before", n, before)
	}
}

func TestWatcherQueuedItemsOutliveHalt(t *testing.T) {
	w := New[int](armed(t, 1), config())
	w.Start(nopHandler{}, 1, 2)
	if _, err := w.Halt(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{1, 2} {
		if got := next(t, w); got != want {
			t.Fatalf("Next = %d, want %d", got, want)
		}
	}
	if _, err := w.Next(context.Background()); !errors.Is(err, errHalted) {
		t.Fatalf("Next on an empty halted queue = %v, want cfg.ErrHalted", err)
	}
}

func TestWatcherDropsOldestWhenFull(t *testing.T) {
	w := New[int](armed(t, 1), config())
	items := make([]int, MaxQueue+5)
	for i := range items {
		items[i] = i
	}
	w.Start(nopHandler{}, items...)
	defer w.Halt()
	if c := w.Counts(nil); c.Queued != MaxQueue+5 || c.Dropped != 5 {
		t.Fatalf("counts %+v, want %d queued, 5 dropped", c, MaxQueue+5)
	}
	if got := next(t, w); got != 5 {
		t.Fatalf("first item %d, want 5 (the five oldest dropped)", got)
	}
}

func TestWatcherNextHonoursContext(t *testing.T) {
	w := startLines(t, armed(t, 1), 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, want deadline exceeded", err)
	}
}

func TestWatcherHaltReportsFailingPin(t *testing.T) {
	pins := armed(t, 2)
	pins[1] = haltFails{pins[1].(*pintest.Pin)}
	w := New[int](pins, config())
	w.Start(nopHandler{})
	i, err := w.Halt()
	if !errors.Is(err, errPinHalt) || i != 1 {
		t.Fatalf("Halt = %d, %v, want pin 1 and its error", i, err)
	}
	if s := pins[0].(*pintest.Pin).Stats(); s.Halts != 1 || s.Waiting != 0 {
		t.Fatalf("pin 0 not halted after pin 1 failed: %+v", s)
	}
}

// With something due far ahead, PollWhileDue re-reads every IdlePoll; without
// it the pin waits for the due time.
func TestWatcherPollWhileDue(t *testing.T) {
	for _, poll := range []bool{false, true} {
		cfg := config()
		cfg.PollWhileDue = poll
		w := New[int](armed(t, 1), cfg)
		h := &dueLater{due: time.Now().Add(time.Hour)}
		w.Start(h)
		time.Sleep(3*IdlePoll + IdlePoll/2)
		_, _ = w.Halt()
		h.mu.Lock()
		n := h.settles
		h.mu.Unlock()
		if poll && n < 2 || !poll && n != 0 {
			t.Errorf("PollWhileDue=%t: %d quiet readings in 3.5 idle polls", poll, n)
		}
	}
}

// nopHandler never releases anything.
type nopHandler struct{}

func (nopHandler) Due(int) (time.Time, bool)                         { return time.Time{}, false }
func (nopHandler) Observe(_ int, _ time.Time, _ bool, o []int) []int { return o }
func (nopHandler) Settle(_ int, _ time.Time, _ bool, o []int) []int  { return o }

// dueLater always has something due at due, and counts the quiet readings.
type dueLater struct {
	nopHandler
	due     time.Time
	mu      sync.Mutex // the test reads settles while the watcher runs
	settles int
}

func (h *dueLater) Due(int) (time.Time, bool) { return h.due, true }

func (h *dueLater) Settle(_ int, _ time.Time, _ bool, o []int) []int {
	h.mu.Lock()
	h.settles++
	h.mu.Unlock()
	return o
}

// reading is what a recorder releases: one per edge, and one per quiet
// reading once asked to.
type reading struct {
	line     int
	on, edge bool
}

type recorder struct {
	mu    sync.Mutex // the test reads the fields while the watchers run
	quiet bool
	minAt time.Time
}

func (*recorder) Due(int) (time.Time, bool) { return time.Time{}, false }

func (r *recorder) Observe(i int, at time.Time, on bool, out []reading) []reading {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.minAt.IsZero() || at.Before(r.minAt) {
		r.minAt = at
	}
	return append(out, reading{line: i, on: on, edge: true})
}

func (r *recorder) Settle(i int, at time.Time, on bool, out []reading) []reading {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.quiet {
		return out
	}
	return append(out, reading{line: i, on: on})
}

var errPinHalt = errors.New("pin halt failed")

type haltFails struct{ *pintest.Pin }

func (p haltFails) Halt() error {
	_ = p.Pin.Halt() // still cut the wait short
	return errPinHalt
}
