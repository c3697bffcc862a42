package edge

import (
	"context"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Handler is the pure core of a driver as a Watcher feeds it: it takes the
// level of pin i read at a time and appends what that releases (changes,
// pulses, episodes) to out. A Watcher calls it from one goroutine per pin,
// always with its lock held.
type Handler[T any] interface {
	// Due returns when pin i next has something to decide with no edge,
	// if anything.
	Due(i int) (time.Time, bool)
	// Observe takes the level read right after an edge on pin i.
	Observe(i int, at time.Time, on bool, out []T) []T
	// Settle takes the level read when the wait for an edge timed out.
	Settle(i int, at time.Time, on bool, out []T) []T
}

// Config says how a Watcher reads its pins.
type Config struct {
	// ActiveLow says a low level is the active one.
	ActiveLow bool
	// Now stamps the readings; it must advance with real time, the waits
	// are real.
	Now func() time.Time
	// PollWhileDue re-reads the pins at least every IdlePoll even while the
	// handler has something due later (pir's merge gap lasts seconds).
	// Otherwise a pin waits until its due time.
	PollWhileDue bool
	// ErrHalted is what Next returns once halted with nothing queued.
	ErrHalted error
}

// IdlePoll bounds a wait with nothing due, so that Halt is noticed and a
// level that moved without an edge is caught.
const IdlePoll = 250 * time.Millisecond

// MaxQueue bounds what waits for Next; beyond it the oldest is dropped.
const MaxQueue = 1024

// Counts is what a Watcher saw.
type Counts struct {
	Edges   []int // edges reported by each pin
	Queued  int   // items queued for Next, dropped ones included
	Dropped int   // items lost because nobody called Next (queue full)
}

// Watcher waits for edges on its pins, one goroutine per pin, feeds the
// levels to a Handler and queues what it releases for Next.
type Watcher[T any] struct {
	pins []gpio.PinIn
	cfg  Config

	done     chan struct{}
	wg       sync.WaitGroup
	haltOnce sync.Once
	notify   chan struct{} // one token: the queue grew

	mu     sync.Mutex
	queue  []T
	counts Counts
}

// New returns a Watcher of pins, which must already be configured as inputs
// with edge detection. It starts nothing: read the initial levels with
// Level, build the handler, then call Start.
func New[T any](pins []gpio.PinIn, cfg Config) *Watcher[T] {
	return &Watcher[T]{
		pins:   pins,
		cfg:    cfg,
		done:   make(chan struct{}),
		notify: make(chan struct{}, 1),
		counts: Counts{Edges: make([]int, len(pins))},
	}
}

// Level reads pin i now, undebounced: whether it is active.
func (w *Watcher[T]) Level(i int) bool { return bool(w.pins[i].Read()) != w.cfg.ActiveLow }

// Start queues initial for Next, then starts watching every pin with h
// until Halt. Call it once.
func (w *Watcher[T]) Start(h Handler[T], initial ...T) {
	w.enqueue(initial) // no watcher runs yet: no lock needed
	for i := range w.pins {
		w.wg.Add(1)
		go w.watch(i, h)
	}
}

// Halted says whether Halt was called.
func (w *Watcher[T]) Halted() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// watch follows pin i until Halt.
func (w *Watcher[T]) watch(i int, h Handler[T]) {
	defer w.wg.Done()
	p := w.pins[i]
	var out []T
	for !w.Halted() {
		w.mu.Lock()
		wait := IdlePoll
		if due, ok := h.Due(i); ok {
			// Never 0 or negative: back-ends disagree on what those mean.
			wait = max(due.Sub(w.cfg.Now()), time.Millisecond)
			if w.cfg.PollWhileDue {
				wait = min(wait, IdlePoll)
			}
		}
		w.mu.Unlock()
		edge := p.WaitForEdge(wait)
		if w.Halted() {
			return
		}
		on := w.Level(i)
		w.mu.Lock()
		now := w.cfg.Now()
		if edge {
			w.counts.Edges[i]++
			out = h.Observe(i, now, on, out[:0])
		} else {
			out = h.Settle(i, now, on, out[:0])
		}
		w.enqueue(out)
		w.mu.Unlock()
	}
}

// enqueue appends items for Next; w.mu is held (or no watcher runs yet).
func (w *Watcher[T]) enqueue(items []T) {
	if len(items) == 0 {
		return
	}
	for _, it := range items {
		if len(w.queue) == MaxQueue {
			w.queue = w.queue[1:]
			w.counts.Dropped++
		}
		w.queue = append(w.queue, it)
		w.counts.Queued++
	}
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// Next returns the next queued item, waiting for one until ctx ends or the
// Watcher is halted; then it returns cfg.ErrHalted once the queue is empty.
func (w *Watcher[T]) Next(ctx context.Context) (T, error) {
	var zero T
	for {
		w.mu.Lock()
		if len(w.queue) > 0 {
			it := w.queue[0]
			w.queue = w.queue[1:]
			w.mu.Unlock()
			return it, nil
		}
		w.mu.Unlock()
		if w.Halted() {
			return zero, w.cfg.ErrHalted
		}
		select {
		case <-w.notify:
		case <-w.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}

// Counts returns the counters. also, if not nil, runs under the lock the
// handler runs under, so that a driver can copy its handler's own counters
// consistently with them.
func (w *Watcher[T]) Counts(also func()) Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	if also != nil {
		also()
	}
	c := w.counts
	c.Edges = append([]int(nil), w.counts.Edges...)
	return c
}

// Halt stops watching: it halts every pin to cut its wait short, waits for
// the watchers to end and wakes Next. Items already queued can still be
// read. It returns the first pin that failed to halt and its error; only
// the first call does anything.
func (w *Watcher[T]) Halt() (pin int, err error) {
	w.haltOnce.Do(func() {
		close(w.done)
		for i, p := range w.pins {
			if e := p.Halt(); e != nil && err == nil {
				pin, err = i, e
			}
		}
		w.wg.Wait()
	})
	return pin, err
}
