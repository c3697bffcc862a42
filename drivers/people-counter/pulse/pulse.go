package pulse

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
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

// Dev watches the output lines of one counter.
type Dev struct {
	names []string // sorted; index = line number in edge.Lines
	pins  []gpio.PinIn
	w     *edge.Watcher[Pulse]
	pm    *pulses // only under d.w's lock
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
	d := &Dev{}
	for name := range lines {
		d.names = append(d.names, name)
	}
	sort.Strings(d.names)
	seen := map[gpio.PinIn]string{}
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
	}
	d.w = edge.New[Pulse](d.pins, edge.Config{ActiveLow: o.ActiveLow, Now: o.Now, ErrHalted: ErrHalted})
	initial := make([]bool, len(d.pins))
	for i := range d.pins {
		initial[i] = d.w.Level(i)
	}
	d.pm = newPulses(o.Debounce, o.MinPulse, d.names, initial)
	d.w.Start(d.pm)
	return d, nil
}

// pulses is the edge.Handler of a Dev: the debounced changes of the lines,
// assembled into pulses.
type pulses struct {
	lines    *edge.Lines
	names    []string
	asm      []assembler
	glitches int           // active stretches shorter than MinPulse
	changes  []edge.Change // scratch
}

// newPulses debounces the lines named names over debounce; initial[i] is
// the level of line i at the start.
func newPulses(debounce, minPulse time.Duration, names []string, initial []bool) *pulses {
	h := &pulses{lines: edge.NewLines(debounce, initial), names: names, asm: make([]assembler, len(initial))}
	for i := range h.asm {
		h.asm[i] = assembler{minPulse: minPulse, active: initial[i]}
	}
	return h
}

func (h *pulses) Due(i int) (time.Time, bool) { return h.lines.Due(i) }

func (h *pulses) Observe(i int, at time.Time, on bool, out []Pulse) []Pulse {
	h.changes = h.lines.Observe(i, at, on, h.changes[:0])
	return h.assemble(out)
}

func (h *pulses) Settle(i int, at time.Time, on bool, out []Pulse) []Pulse {
	h.changes = h.lines.Settle(i, at, on, h.changes[:0])
	return h.assemble(out)
}

// assemble turns the released changes into pulses appended to out.
func (h *pulses) assemble(out []Pulse) []Pulse {
	for _, c := range h.changes {
		p, ok, short := h.asm[c.Line].feed(c)
		if short {
			h.glitches++
		}
		if ok {
			p.Line = h.names[c.Line]
			out = append(out, p)
		}
	}
	return out
}

// Next returns the next pulse, waiting for one until ctx ends or the Dev is
// halted. Pulses come in non-decreasing End order across lines; a pulse is
// known Debounce after its end.
func (d *Dev) Next(ctx context.Context) (Pulse, error) { return d.w.Next(ctx) }

// Levels reads every line now, undebounced: whether it is active.
func (d *Dev) Levels() (map[string]bool, error) {
	if d.w.Halted() {
		return nil, ErrHalted
	}
	m := make(map[string]bool, len(d.pins))
	for i, name := range d.names {
		m[name] = d.w.Level(i)
	}
	return m, nil
}

// Lines returns the line names, sorted.
func (d *Dev) Lines() []string { return append([]string(nil), d.names...) }

// Stats returns the counters.
func (d *Dev) Stats() Stats {
	var glitches int
	c := d.w.Counts(func() { glitches = d.pm.glitches })
	s := Stats{Edges: make(map[string]int, len(d.names)), Pulses: c.Queued, Glitches: glitches, Dropped: c.Dropped}
	for i, n := range c.Edges {
		if n > 0 {
			s.Edges[d.names[i]] = n
		}
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
	if i, err := d.w.Halt(); err != nil {
		return fmt.Errorf("pulse: halting line %q: %w", d.names[i], err)
	}
	return nil
}
