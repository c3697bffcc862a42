// Package aggregate turns detection events into per-sensor, per-window
// counts and the store-level figures derived from them (entry rate,
// stop-by rate, tap rate, occupancy). It is pure: time comes in as the
// events' wall-clock milliseconds, never from the system clock, so the
// daemon, replay and tests run the same code.
package aggregate

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Options tune an Aggregator.
type Options struct {
	// Window is the aggregation period; windows are aligned to multiples of
	// it since the Unix epoch in UTC (so 1m windows start on the minute).
	Window time.Duration
	// ClosingTime is the local time of day ("22:00") at which occupancy is
	// reset to zero; empty means never.
	ClosingTime string
	// Location is the time zone of ClosingTime; nil means UTC.
	Location *time.Location
}

// Counts are one sensor's figures in one window (or in a whole trace).
type Counts struct {
	Entries   int64
	Exits     int64
	Passersby int64
	StopBys   int64
	Taps      int64
	Checkins  int64
	Dwells    []int64 // stop-by durations, ms, in arrival order
}

func (c *Counts) add(ev sensor.Event) {
	switch ev.Type {
	case sensor.Entry:
		c.Entries++
	case sensor.Exit:
		c.Exits++
	case sensor.Passerby:
		c.Passersby++
	case sensor.StopBy:
		c.StopBys++
		c.Dwells = append(c.Dwells, ev.DwellMs)
	case sensor.Tap:
		c.Taps++
	case sensor.Checkin:
		c.Checkins++
	}
}

func (c *Counts) merge(o *Counts) {
	c.Entries += o.Entries
	c.Exits += o.Exits
	c.Passersby += o.Passersby
	c.StopBys += o.StopBys
	c.Taps += o.Taps
	c.Checkins += o.Checkins
	c.Dwells = append(c.Dwells, o.Dwells...)
}

// Window is one closed aggregation window.
type Window struct {
	Start, End int64    // Unix ms, UTC
	Sensors    []Counts // indexed like the Aggregator's specs
	Occupancy  int64    // people inside at the window's end
}

// Aggregator accumulates events into windows. Not safe for concurrent use:
// one pipeline goroutine owns it.
type Aggregator struct {
	specs    []sensor.Spec
	windowMs int64
	closing  closingClock

	open      bool
	start     int64 // open window's start
	cur       []Counts
	occupancy int64
	nextReset int64 // Unix ms of the next occupancy reset; 0 = none
	closedEnd int64 // end of the last closed window: no window starts before it
	seen      int64 // latest time this process advanced to; 0 = none yet
}

// New makes an Aggregator for the sensors in specs (events refer to them by
// index).
func New(specs []sensor.Spec, opts Options) (*Aggregator, error) {
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.Window < time.Second || opts.Window%time.Second != 0 {
		return nil, fmt.Errorf("window %s: want a whole number of seconds, at least 1s", opts.Window)
	}
	cc, err := parseClosing(opts.ClosingTime, opts.Location)
	if err != nil {
		return nil, err
	}
	if err := CheckRates(specs); err != nil {
		return nil, err
	}
	return &Aggregator{specs: specs, windowMs: opts.Window.Milliseconds(), closing: cc, cur: make([]Counts, len(specs))}, nil
}

// CheckRates validates what the store-level rates need of the sensor set:
// a plate's shelf must exist and be a shelf, and the passer-by sensors must
// agree on counts_entrants.
func CheckRates(specs []sensor.Spec) error {
	ids := map[string]sensor.Spec{}
	for _, s := range specs {
		ids[s.ID] = s
	}
	var sawTrue, sawFalse bool
	for _, s := range specs {
		switch s.Role {
		case sensor.RolePlate:
			if s.Shelf == "" {
				continue
			}
			sh, ok := ids[s.Shelf]
			if !ok {
				return fmt.Errorf("sensor %q: shelf=%q: no sensor has that id", s.ID, s.Shelf)
			}
			if sh.Role != sensor.RoleShelf {
				return fmt.Errorf("sensor %q: shelf=%q: that sensor's role is %s, not shelf", s.ID, s.Shelf, sh.Role)
			}
		case sensor.RolePasserby:
			if s.CountsEntrants {
				sawTrue = true
			} else {
				sawFalse = true
			}
		}
	}
	if sawTrue && sawFalse {
		return fmt.Errorf("passer-by sensors disagree on counts_entrants: the entry rate needs them all true or all false")
	}
	return nil
}

// WindowOf returns the start of the window holding wall time ms.
func (a *Aggregator) WindowOf(ms int64) int64 {
	s := ms - ms%a.windowMs
	if ms < 0 && ms%a.windowMs != 0 {
		s -= a.windowMs
	}
	return s
}

// Add counts one event that happened at wall time ms and returns the
// windows that closed before it. An event dated before the open window (a
// clock stepped back, a late reading) is counted in the open window: a
// window once closed is never reopened, and no count is dropped.
func (a *Aggregator) Add(ev sensor.Event, ms int64, closed []Window) []Window {
	closed = a.Advance(ms, closed)
	c := &a.cur[ev.Sensor]
	c.add(ev)
	switch a.specs[ev.Sensor].Role {
	case sensor.RoleEntrance:
		switch ev.Type {
		case sensor.Entry:
			a.occupancy++
		case sensor.Exit:
			if a.occupancy > 0 {
				a.occupancy--
			}
		}
	}
	return closed
}

// maxFill is how many empty windows a short gap in the aggregator's time
// may close (the process was stalled across a window boundary). A longer
// gap is a clock jump, and its windows are left out.
const maxFill = 3

// Advance tells the aggregator that wall time has reached ms: the open
// window closes once ms reaches its end, and the window that holds ms opens
// next. Windows the agent lived through are all reported, with zeros if
// nothing happened, even across a short stall; the empty windows of a gap
// it did not live through (it was off, the clock jumped) are left out.
func (a *Aggregator) Advance(ms int64, closed []Window) []Window {
	lived := a.seen != 0 && ms-a.seen <= (maxFill+1)*a.windowMs
	if ms > a.seen {
		a.seen = ms
	}
	if a.open && ms >= a.start+a.windowMs {
		closed = append(closed, a.closeOpen())
		for lived && ms >= a.closedEnd+a.windowMs {
			a.openAt(a.closedEnd)
			closed = append(closed, a.closeOpen())
		}
	}
	if !a.open {
		a.openAt(ms)
	}
	a.resetOccupancyUntil(ms)
	return closed
}

// Close closes the open window however far it has got (the end of a trace,
// a shutdown). The window keeps its nominal end.
func (a *Aggregator) Close(closed []Window) []Window {
	if a.open {
		closed = append(closed, a.closeOpen())
	}
	return closed
}

func (a *Aggregator) openAt(ms int64) {
	start := a.WindowOf(ms)
	if start < a.closedEnd {
		start = a.closedEnd // the clock went back: stay after what was reported
	}
	a.start = start
	a.open = true
	if a.closing.set && a.nextReset == 0 {
		a.nextReset = a.closing.next(ms)
	}
}

func (a *Aggregator) closeOpen() Window {
	end := a.start + a.windowMs
	a.resetOccupancyUntil(end)
	w := Window{Start: a.start, End: end, Sensors: a.cur, Occupancy: a.occupancy}
	a.cur = make([]Counts, len(a.specs))
	a.open = false
	a.closedEnd = end
	return w
}

// resetOccupancyUntil applies the closing-time resets that fall before ms.
func (a *Aggregator) resetOccupancyUntil(ms int64) {
	if !a.closing.set || a.nextReset == 0 {
		return
	}
	for ms >= a.nextReset {
		a.occupancy = 0
		a.nextReset = a.closing.next(a.nextReset)
	}
}

// Occupancy is the number of people inside now (entries − exits since the
// last reset, never below zero).
func (a *Aggregator) Occupancy() int64 { return a.occupancy }

// Specs returns the sensors the aggregator counts for.
func (a *Aggregator) Specs() []sensor.Spec { return a.specs }

// OpenCounts returns the counts of the open window so far (for status and
// watch views); the caller must not modify them.
func (a *Aggregator) OpenCounts() (start int64, counts []Counts) { return a.start, a.cur }

// snapshot is the aggregator's state as persisted between commits, so an
// open window's counts survive a restart.
type snapshot struct {
	V         int                 `json:"v"`
	Window    int64               `json:"window_ms"`
	Open      bool                `json:"open"`
	Start     int64               `json:"start"`
	Counts    map[string]snapCnts `json:"counts"`
	Occupancy int64               `json:"occupancy"`
	NextReset int64               `json:"next_reset"`
	ClosedEnd int64               `json:"closed_end"`
}

type snapCnts struct {
	Entries   int64   `json:"entries,omitempty"`
	Exits     int64   `json:"exits,omitempty"`
	Passersby int64   `json:"passersby,omitempty"`
	StopBys   int64   `json:"stop_bys,omitempty"`
	Taps      int64   `json:"taps,omitempty"`
	Checkins  int64   `json:"checkins,omitempty"`
	Dwells    []int64 `json:"dwells,omitempty"`
}

// Snapshot encodes the aggregator's state. Sensors are keyed by id so a
// config change that adds or reorders sensors keeps the counts of the rest.
func (a *Aggregator) Snapshot() []byte {
	s := snapshot{V: 1, Window: a.windowMs, Open: a.open, Start: a.start, Occupancy: a.occupancy,
		NextReset: a.nextReset, ClosedEnd: a.closedEnd, Counts: map[string]snapCnts{}}
	for i, c := range a.cur {
		if c.Entries|c.Exits|c.Passersby|c.StopBys|c.Taps|c.Checkins == 0 {
			continue
		}
		s.Counts[a.specs[i].ID] = snapCnts{c.Entries, c.Exits, c.Passersby, c.StopBys, c.Taps, c.Checkins, c.Dwells}
	}
	b, _ := json.Marshal(s) // plain data: cannot fail
	return b
}

// Restore loads a Snapshot. Counts of sensors no longer configured are
// dropped (and returned, so the caller can log them); a snapshot taken with
// another window length closes nothing and starts afresh but keeps
// occupancy and the no-reopen bound.
func (a *Aggregator) Restore(b []byte) (dropped []string, err error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("aggregator state: %w", err)
	}
	if s.V != 1 {
		return nil, fmt.Errorf("aggregator state: version %d not understood", s.V)
	}
	a.occupancy, a.nextReset, a.closedEnd = s.Occupancy, s.NextReset, s.ClosedEnd
	if s.Window != a.windowMs || !s.Open {
		return nil, nil
	}
	idx := map[string]int{}
	for i, sp := range a.specs {
		idx[sp.ID] = i
	}
	a.open, a.start = true, s.Start
	for id, c := range s.Counts {
		i, ok := idx[id]
		if !ok {
			dropped = append(dropped, id)
			continue
		}
		a.cur[i] = Counts{c.Entries, c.Exits, c.Passersby, c.StopBys, c.Taps, c.Checkins, c.Dwells}
	}
	sort.Strings(dropped)
	return dropped, nil
}
