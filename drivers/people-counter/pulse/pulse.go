package pulse

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Opts configures a Dev.
//
// A nil *Opts means DefaultOpts. A non-nil Opts is used as given, except that
// zero durations and a nil Now take their defaults; start from a copy of
// DefaultOpts to change one field.
type Opts struct {
	// Pull is applied to every line. PullNoChange leaves the lines as they
	// are (an external pull-up resistor, say).
	Pull gpio.Pull
	// ActiveLow says a low level is the active state of the output.
	ActiveLow bool
	// MinPulse is the shortest active stretch that counts as a person;
	// shorter ones are glitches and are only counted in Stats.
	MinPulse time.Duration
	// Debounce is how long a level must stay unchanged before it is taken;
	// it swallows relay contact bounce. Keep it well under MinPulse.
	Debounce time.Duration
	// Now stamps pulses and measures the durations; it must advance with
	// real time. Default time.Now.
	Now func() time.Time
}

// DefaultOpts suits an open-collector (or dry-contact to ground) output: the
// line needs a pull-up and is pulled low while active. Counters typically
// emit pulses of 50 ms and more per person; 20 ms rejects glitches with a
// good margin, and 5 ms of debounce covers relay bounce.
var DefaultOpts = Opts{Pull: gpio.PullUp, ActiveLow: true, MinPulse: 20 * time.Millisecond, Debounce: 5 * time.Millisecond}

// Pulse is one active pulse: one person on its line.
type Pulse struct {
	Line       string    // the name the line was given to New, e.g. "in"
	Start, End time.Time // when the line became active and inactive again
}

// Duration returns End - Start.
func (p Pulse) Duration() time.Duration { return p.End.Sub(p.Start) }

func (p Pulse) String() string {
	return fmt.Sprintf("%s pulse at %s (%s)", p.Line, p.Start.Format("15:04:05.000"), p.Duration())
}

// Stats counts what a Dev saw.
type Stats struct {
	Edges    map[string]int // edges reported per line
	Pulses   int            // pulses queued for Next
	Glitches int            // active stretches shorter than MinPulse
	Dropped  int            // pulses lost because nobody called Next
}

// ErrHalted is returned by Next and Levels once the Dev is halted and its
// queue is empty.
var ErrHalted = errors.New("pulse: halted")

const (
	maxQueue = 1024
	idlePoll = 250 * time.Millisecond
)

// Dev watches the output lines of one counter.
type Dev struct {
	names []string // sorted; index = line number in core
	pins  []gpio.PinIn
	opts  Opts

	done     chan struct{}
	wg       sync.WaitGroup
	haltOnce sync.Once
	notify   chan struct{}

	mu    sync.Mutex
	core  *core
	asm   []assembler
	queue []Pulse
	st    Stats
}

// New configures each line (named by the counter's output it is wired to,
// e.g. "in", "out", "pass") as an input with edge detection and starts
// watching them.
func New(lines map[string]gpio.PinIn, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.MinPulse == 0 {
		o.MinPulse = DefaultOpts.MinPulse
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultOpts.Debounce
	}
	if o.MinPulse < 0 || o.Debounce < 0 {
		return nil, fmt.Errorf("pulse: negative MinPulse %s or Debounce %s", o.MinPulse, o.Debounce)
	}
	if o.Debounce >= o.MinPulse {
		return nil, fmt.Errorf("pulse: Debounce %s must be shorter than MinPulse %s", o.Debounce, o.MinPulse)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(lines) == 0 {
		return nil, errors.New("pulse: no lines")
	}
	d := &Dev{opts: o, done: make(chan struct{}), notify: make(chan struct{}, 1), st: Stats{Edges: map[string]int{}}}
	for name := range lines {
		d.names = append(d.names, name)
	}
	sort.Strings(d.names)
	seen := map[gpio.PinIn]string{}
	var initial []bool
	for _, name := range d.names {
		p := lines[name]
		if name == "" {
			return nil, errors.New("pulse: a line has an empty name")
		}
		if p == nil {
			return nil, fmt.Errorf("pulse: line %q has no pin", name)
		}
		if other, dup := seen[p]; dup {
			return nil, fmt.Errorf("pulse: lines %q and %q are the same pin %s", other, name, p)
		}
		seen[p] = name
		if err := p.In(o.Pull, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("pulse: line %q: %w", name, err)
		}
		d.pins = append(d.pins, p)
		initial = append(initial, d.active(p.Read()))
	}
	d.core = newCore(o.Debounce, initial)
	d.asm = make([]assembler, len(d.pins))
	for i := range d.asm {
		d.asm[i] = assembler{minPulse: o.MinPulse, active: initial[i]}
	}
	for i := range d.pins {
		d.wg.Add(1)
		go d.watch(i)
	}
	return d, nil
}

func (d *Dev) active(l gpio.Level) bool { return bool(l) != d.opts.ActiveLow }

func (d *Dev) stopped() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

func (d *Dev) watch(i int) {
	defer d.wg.Done()
	p := d.pins[i]
	var out []change
	for !d.stopped() {
		d.mu.Lock()
		due, open := d.core.due(i)
		wait := idlePoll
		if open {
			wait = max(due.Sub(d.opts.Now()), time.Millisecond)
		}
		d.mu.Unlock()
		edge := p.WaitForEdge(wait)
		if d.stopped() {
			return
		}
		on := d.active(p.Read())
		d.mu.Lock()
		now := d.opts.Now()
		if edge {
			d.st.Edges[d.names[i]]++
			out = d.core.observe(i, now, on, out[:0])
		} else {
			out = d.core.settle(i, now, on, out[:0])
		}
		d.assemble(out)
		d.mu.Unlock()
	}
}

// assemble turns released changes into queued pulses; d.mu is held.
func (d *Dev) assemble(chs []change) {
	queued := false
	for _, c := range chs {
		p, ok, short := d.asm[c.line].feed(c)
		if short {
			d.st.Glitches++
		}
		if !ok {
			continue
		}
		p.Line = d.names[c.line]
		if len(d.queue) == maxQueue {
			d.queue = d.queue[1:]
			d.st.Dropped++
		}
		d.queue = append(d.queue, p)
		d.st.Pulses++
		queued = true
	}
	if queued {
		select {
		case d.notify <- struct{}{}:
		default:
		}
	}
}

// Next returns the next pulse, waiting for one until ctx ends or the Dev is
// halted. Pulses come in non-decreasing End order across lines; a pulse is
// known Debounce after its end.
func (d *Dev) Next(ctx context.Context) (Pulse, error) {
	for {
		d.mu.Lock()
		if len(d.queue) > 0 {
			p := d.queue[0]
			d.queue = d.queue[1:]
			d.mu.Unlock()
			return p, nil
		}
		d.mu.Unlock()
		if d.stopped() {
			return Pulse{}, ErrHalted
		}
		select {
		case <-d.notify:
		case <-d.done:
		case <-ctx.Done():
			return Pulse{}, ctx.Err()
		}
	}
}

// Levels reads every line now, undebounced: whether it is active.
func (d *Dev) Levels() (map[string]bool, error) {
	if d.stopped() {
		return nil, ErrHalted
	}
	m := make(map[string]bool, len(d.pins))
	for i, p := range d.pins {
		m[d.names[i]] = d.active(p.Read())
	}
	return m, nil
}

// Lines returns the line names, sorted.
func (d *Dev) Lines() []string { return append([]string(nil), d.names...) }

// Stats returns the counters.
func (d *Dev) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.st
	s.Edges = make(map[string]int, len(d.st.Edges))
	for k, v := range d.st.Edges {
		s.Edges[k] = v
	}
	return s
}

func (d *Dev) String() string {
	parts := make([]string, len(d.pins))
	for i, p := range d.pins {
		parts[i] = d.names[i] + ": " + p.String()
	}
	return "pulse{" + strings.Join(parts, ", ") + "}"
}

// Halt stops watching: it halts the pins to cut their waits short, waits for
// the watchers to end and wakes Next. Pulses already queued can still be
// read; then Next returns ErrHalted.
func (d *Dev) Halt() error {
	var err error
	d.haltOnce.Do(func() {
		close(d.done)
		for i, p := range d.pins {
			if e := p.Halt(); e != nil && err == nil {
				err = fmt.Errorf("pulse: halting line %q: %w", d.names[i], e)
			}
		}
		d.wg.Wait()
	})
	return err
}
