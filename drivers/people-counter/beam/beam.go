package beam

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Beam indices, as in Change.Beam.
const (
	A = 0 // street side
	B = 1 // store side
)

// Opts configures a Dev.
//
// A nil *Opts means DefaultOpts. A non-nil Opts is used as given, except that
// a zero Debounce and a nil Now take their defaults; start from a copy of
// DefaultOpts to change one field.
type Opts struct {
	// Pull is applied to both inputs. PullNoChange leaves the lines as they
	// are (an external pull-up resistor, say).
	Pull gpio.Pull
	// ActiveLow says a low input level means the beam is blocked.
	ActiveLow bool
	// Debounce is how long a level must stay unchanged before it is
	// reported. Blocks shorter than this are not reported at all.
	Debounce time.Duration
	// Now stamps changes and measures Debounce; it must advance with real
	// time (the waits are real). Default time.Now.
	Now func() time.Time
}

// DefaultOpts suits the common open-collector receivers (Adafruit-style
// 3 mm/5 mm break-beam pairs): the output needs a pull-up and reads low
// while the beam is broken. Industrial through-beam receivers usually have a
// light-on/dark-on switch; set ActiveLow to match. 10 ms of debounce drops
// electrical glitches but keeps a leg or a body crossing (100 ms and more at
// walking speed); the two beams a few cm apart are blocked tens of ms apart,
// and Change.At keeps that order.
var DefaultOpts = Opts{Pull: gpio.PullUp, ActiveLow: true, Debounce: 10 * time.Millisecond}

// Change is a debounced change of one beam.
type Change struct {
	Beam    int       // A or B
	Blocked bool      // the beam is now blocked
	At      time.Time // when the line first left its previous level
}

// Name returns "a" or "b", the beam's channel name in a trace.
func (c Change) Name() string {
	if c.Beam == A {
		return "a"
	}
	return "b"
}

func (c Change) String() string {
	s := "clear"
	if c.Blocked {
		s = "blocked"
	}
	return fmt.Sprintf("%s %s at %s", c.Name(), s, c.At.Format("15:04:05.000"))
}

// Stats counts what a Dev saw.
type Stats struct {
	Edges   [2]int // edges reported by each input
	Changes int    // debounced changes queued for Next
	Dropped int    // changes lost because nobody called Next (queue full)
}

// ErrHalted is returned by Next and Levels once the Dev is halted and its
// queue is empty.
var ErrHalted = errors.New("beam: halted")

// maxQueue bounds the changes waiting for Next.
const maxQueue = 1024

// idlePoll bounds a wait with no burst open, so that Halt is noticed and a
// level that moved without an edge is caught.
const idlePoll = 250 * time.Millisecond

// Dev is a break-beam pair.
type Dev struct {
	pins [2]gpio.PinIn
	opts Opts

	done     chan struct{}
	wg       sync.WaitGroup
	haltOnce sync.Once
	notify   chan struct{} // one token: the queue grew

	mu    sync.Mutex
	core  *core
	queue []Change
	st    Stats
}

// New configures a (street side) and b (store side) as inputs with edge
// detection and starts watching them.
func New(a, b gpio.PinIn, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultOpts.Debounce
	}
	if o.Debounce < 0 {
		return nil, fmt.Errorf("beam: Debounce %s is negative", o.Debounce)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if a == nil || b == nil {
		return nil, errors.New("beam: both pins are needed")
	}
	if a == b {
		return nil, fmt.Errorf("beam: a and b are the same pin %s", a)
	}
	d := &Dev{pins: [2]gpio.PinIn{a, b}, opts: o, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	var initial []bool
	for i, p := range d.pins {
		if err := p.In(o.Pull, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("beam: %s: %w", Change{Beam: i}.Name(), err)
		}
		initial = append(initial, d.blocked(p.Read()))
	}
	d.core = newCore(o.Debounce, initial)
	for i := range d.pins {
		d.wg.Add(1)
		go d.watch(i)
	}
	return d, nil
}

func (d *Dev) blocked(l gpio.Level) bool { return bool(l) != d.opts.ActiveLow }

func (d *Dev) stopped() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// watch follows input i until Halt.
func (d *Dev) watch(i int) {
	defer d.wg.Done()
	p := d.pins[i]
	var out []Change
	for !d.stopped() {
		d.mu.Lock()
		due, open := d.core.due(i)
		wait := idlePoll
		if open {
			// Never 0 or negative: back-ends disagree on what those mean.
			wait = max(due.Sub(d.opts.Now()), time.Millisecond)
		}
		d.mu.Unlock()
		edge := p.WaitForEdge(wait)
		if d.stopped() {
			return
		}
		on := d.blocked(p.Read())
		d.mu.Lock()
		now := d.opts.Now()
		if edge {
			d.st.Edges[i]++
			out = d.core.observe(i, now, on, out[:0])
		} else {
			out = d.core.settle(i, now, on, out[:0])
		}
		d.enqueue(out)
		d.mu.Unlock()
	}
}

// enqueue appends released changes for Next; d.mu is held.
func (d *Dev) enqueue(chs []Change) {
	if len(chs) == 0 {
		return
	}
	for _, c := range chs {
		if len(d.queue) == maxQueue {
			d.queue = d.queue[1:]
			d.st.Dropped++
		}
		d.queue = append(d.queue, c)
		d.st.Changes++
	}
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// Next returns the next debounced change, waiting for one until ctx ends or
// the Dev is halted. Changes come in non-decreasing At order across both
// beams.
func (d *Dev) Next(ctx context.Context) (Change, error) {
	for {
		d.mu.Lock()
		if len(d.queue) > 0 {
			c := d.queue[0]
			d.queue = d.queue[1:]
			d.mu.Unlock()
			return c, nil
		}
		d.mu.Unlock()
		if d.stopped() {
			return Change{}, ErrHalted
		}
		select {
		case <-d.notify:
		case <-d.done:
		case <-ctx.Done():
			return Change{}, ctx.Err()
		}
	}
}

// Levels reads both inputs now, undebounced: whether a and b are blocked.
// Use it to align the beams during installation.
func (d *Dev) Levels() (a, b bool, err error) {
	if d.stopped() {
		return false, false, ErrHalted
	}
	return d.blocked(d.pins[A].Read()), d.blocked(d.pins[B].Read()), nil
}

// Stats returns the counters.
func (d *Dev) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

func (d *Dev) String() string {
	return fmt.Sprintf("beam{a: %s, b: %s}", d.pins[A], d.pins[B])
}

// Halt stops watching: it halts both pins to cut their waits short, waits
// for the watchers to end and wakes Next. Changes already queued can still
// be read; then Next returns ErrHalted.
func (d *Dev) Halt() error {
	var err error
	d.haltOnce.Do(func() {
		close(d.done)
		for _, p := range d.pins {
			if e := p.Halt(); e != nil && err == nil {
				err = fmt.Errorf("beam: halting %s: %w", p, e)
			}
		}
		d.wg.Wait()
	})
	return err
}
