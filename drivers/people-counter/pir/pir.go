package pir

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/internal/edge"
	"periph.io/x/conn/v3/gpio"
)

// Opts configures a Dev.
//
// A nil *Opts means DefaultOpts. A non-nil Opts is used as given, except that
// zero durations and a nil Now take their defaults; start from a copy of
// DefaultOpts to change one field.
type Opts struct {
	// Hold is the module's output hold time Tx as set on its potentiometer:
	// how long the output stays high after the last motion it saw.
	Hold time.Duration
	// Retrigger says the module is in repeatable-trigger mode (HC-SR501
	// jumper "H"): motion while the output is high restarts Hold. In
	// single-trigger mode ("L") the output falls Hold after the first motion
	// whatever happens, then the module is blind for Block.
	Retrigger bool
	// Block is the module's block time Ti after the output falls, during
	// which it ignores motion (about 2.5 s on the HC-SR501). In
	// single-trigger mode a rise within 1.5 x Block of a fall continues the
	// same episode, and a stop is only reported once that time has passed.
	Block time.Duration
	// Pull is applied to the input. PullNoChange leaves it as it is.
	Pull gpio.Pull
	// ActiveLow says the output is low while motion is signalled.
	ActiveLow bool
	// Debounce is how long a level must stay unchanged to be taken.
	Debounce time.Duration
	// Now stamps changes and measures the durations; it must advance with
	// real time. Default time.Now.
	Now func() time.Time
}

// DefaultOpts suits an HC-SR501 (BISS0001) in repeatable-trigger mode with
// its hold time turned to the minimum (about 3 s; boards vary) and its
// push-pull 3.3 V output, high on motion. The pull-down keeps a
// disconnected input low rather than floating.
var DefaultOpts = Opts{
	Hold:      3 * time.Second,
	Retrigger: true,
	Block:     2500 * time.Millisecond,
	Pull:      gpio.PullDown,
	Debounce:  10 * time.Millisecond,
}

// Change is the start or the end of a motion episode.
type Change struct {
	Motion bool      // true: motion started; false: it ended
	At     time.Time // when the output rose (start) or fell (end)
	// LastMotion estimates when motion was last sensed. For a start it is
	// At. For an end in repeatable mode it is At - Hold (the module holds
	// its output Hold after the last motion), but not before the rise; in
	// single-trigger mode it is the rise of the last high stretch, the only
	// motion the output proves.
	LastMotion time.Time
}

func (c Change) String() string {
	if c.Motion {
		return fmt.Sprintf("motion at %s", c.At.Format("15:04:05.000"))
	}
	return fmt.Sprintf("no motion at %s (last seen %s)", c.At.Format("15:04:05.000"), c.LastMotion.Format("15:04:05.000"))
}

// ErrHalted is returned by Next and Level once the Dev is halted and its
// queue is empty.
var ErrHalted = errors.New("pir: halted")

// Dev is a PIR motion sensor module on one GPIO input.
type Dev struct {
	pin gpio.PinIn
	w   *edge.Watcher[Change]
}

// New configures p as an input with edge detection and starts watching it.
// If the output is already high, Next first returns a start stamped now.
func New(p gpio.PinIn, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Hold == 0 {
		o.Hold = DefaultOpts.Hold
	}
	if o.Block == 0 {
		o.Block = DefaultOpts.Block
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultOpts.Debounce
	}
	if o.Hold < 0 || o.Block < 0 || o.Debounce < 0 {
		return nil, fmt.Errorf("pir: negative duration in Hold %s, Block %s or Debounce %s", o.Hold, o.Block, o.Debounce)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if p == nil {
		return nil, errors.New("pir: no pin")
	}
	if err := p.In(o.Pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	d := &Dev{pin: p}
	d.w = edge.New[Change]([]gpio.PinIn{p}, edge.Config{
		ActiveLow: o.ActiveLow, Now: o.Now, ErrHalted: ErrHalted,
		PollWhileDue: true, // a single-trigger stop is due up to 1.5 x Block later
	})
	now := o.Now()
	on := d.w.Level(0)
	var initial []Change
	if on {
		initial = []Change{{Motion: true, At: now, LastMotion: now}}
	}
	d.w.Start(episodes{newCore(o, on, now)}, initial...)
	return d, nil
}

// episodes is the edge.Handler of a Dev: its core, on the one pin 0.
type episodes struct{ c *core }

func (e episodes) Due(int) (time.Time, bool) { return e.c.due() }

func (e episodes) Observe(_ int, at time.Time, on bool, out []Change) []Change {
	return e.c.observe(at, on, out)
}

func (e episodes) Settle(_ int, at time.Time, on bool, out []Change) []Change {
	return e.c.settle(at, on, out)
}

// Next returns the next start or end of motion, waiting until ctx ends or
// the Dev is halted.
func (d *Dev) Next(ctx context.Context) (Change, error) { return d.w.Next(ctx) }

// Level reads the output now, undebounced: whether it signals motion.
func (d *Dev) Level() (bool, error) {
	if d.w.Halted() {
		return false, ErrHalted
	}
	return d.w.Level(0), nil
}

// Edges returns how many edges the input reported, and how many changes were
// dropped because nobody called Next.
func (d *Dev) Edges() (edges, dropped int) {
	c := d.w.Counts(nil)
	return c.Edges[0], c.Dropped
}

func (d *Dev) String() string { return fmt.Sprintf("pir{%s}", d.pin) }

// Halt stops watching: it halts the pin to cut its wait short, waits for the
// watcher to end and wakes Next.
func (d *Dev) Halt() error {
	if _, err := d.w.Halt(); err != nil {
		return fmt.Errorf("pir: halting %s: %w", d.pin, err)
	}
	return nil
}
