package beam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/internal/edge"
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

// Dev is a break-beam pair.
type Dev struct {
	pins [2]gpio.PinIn
	w    *edge.Watcher[edge.Change] // line i is beam i
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
	d := &Dev{pins: [2]gpio.PinIn{a, b}}
	d.w = edge.New[edge.Change](d.pins[:], edge.Config{ActiveLow: o.ActiveLow, Now: o.Now, ErrHalted: ErrHalted})
	var initial []bool
	for i, p := range d.pins {
		if err := p.In(o.Pull, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("beam: %s: %w", Change{Beam: i}.Name(), err)
		}
		initial = append(initial, d.w.Level(i)) // read right after In, as before
	}
	d.w.Start(edge.NewLines(o.Debounce, initial))
	return d, nil
}

// Next returns the next debounced change, waiting for one until ctx ends or
// the Dev is halted. Changes come in non-decreasing At order across both
// beams.
func (d *Dev) Next(ctx context.Context) (Change, error) {
	c, err := d.w.Next(ctx)
	return Change{Beam: c.Line, Blocked: c.On, At: c.At}, err
}

// Levels reads both inputs now, undebounced: whether a and b are blocked.
// Use it to align the beams during installation.
func (d *Dev) Levels() (a, b bool, err error) {
	if d.w.Halted() {
		return false, false, ErrHalted
	}
	return d.w.Level(A), d.w.Level(B), nil
}

// Stats returns the counters.
func (d *Dev) Stats() Stats {
	c := d.w.Counts(nil)
	return Stats{Edges: [2]int(c.Edges), Changes: c.Queued, Dropped: c.Dropped}
}

func (d *Dev) String() string {
	return fmt.Sprintf("beam{a: %s, b: %s}", d.pins[A], d.pins[B])
}

// Halt stops watching: it halts both pins to cut their waits short, waits
// for the watchers to end and wakes Next. Changes already queued can still
// be read; then Next returns ErrHalted.
func (d *Dev) Halt() error {
	if i, err := d.w.Halt(); err != nil {
		return fmt.Errorf("beam: halting %s: %w", d.pins[i], err)
	}
	return nil
}
