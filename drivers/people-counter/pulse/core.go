package pulse

import "time"

// This file is the pure core of the driver: it sees observations of the
// lines (a time and the level read then) and decides what changed. It never
// reads a clock; the goroutines in pulse.go feed it.

// line debounces one input.
type line struct {
	stable  bool      // debounced level: active or not
	last    bool      // level read at the latest observation
	lastAt  time.Time // time of that observation
	burst   bool      // edges seen since the level was last stable
	burstAt time.Time // time of the first of them
	edges   int
}

// core debounces the lines and releases their changes in time order.
//
// A change is stamped with the start of the burst of edges that led to it,
// but it is only known once the line has been quiet for window. A change of
// one line is therefore held while another line has an open burst that began
// earlier: that burst may still settle into an earlier change. This keeps the times
// non-decreasing across lines, so pulses of all lines come in End order.
type core struct {
	window time.Duration
	lines  []line
	held   []change // settled, waiting for older bursts; sorted by at
	lastAt time.Time
}

// maxBlockBursts bounds, in windows, how long a burst that never settles (a
// line flapping with noise) can hold back the other lines' changes.
const maxBlockBursts = 100

func newCore(window time.Duration, initial []bool) *core {
	c := &core{window: window, lines: make([]line, len(initial))}
	for i, on := range initial {
		c.lines[i].stable = on
		c.lines[i].last = on
	}
	return c
}

// observe records that line i read on at time at, right after an edge.
func (c *core) observe(i int, at time.Time, on bool, out []change) []change {
	l := &c.lines[i]
	l.edges++
	if !l.burst {
		l.burst = true
		l.burstAt = at
	}
	l.last, l.lastAt = on, at
	return c.release(at, out)
}

// due returns when line i's open burst settles if no edge comes first.
func (c *core) due(i int) (time.Time, bool) {
	l := &c.lines[i]
	return l.lastAt.Add(c.window), l.burst
}

// settle records that line i read on at time at and saw no edge since its
// last observation. When the line has been quiet for the window the burst
// closes; a level different from the stable one is a change. Released
// changes are appended to out.
func (c *core) settle(i int, at time.Time, on bool, out []change) []change {
	l := &c.lines[i]
	if !l.burst {
		if on == l.stable {
			return out
		}
		// The level moved with no edge reported (an edge lost by the
		// back-end): treat it as an edge seen now.
		return c.observe(i, at, on, out)
	}
	if on != l.last {
		return c.observe(i, at, on, out)
	}
	if at.Sub(l.lastAt) < c.window {
		return out
	}
	l.burst = false
	if on != l.stable {
		l.stable = on
		c.hold(change{line: i, on: on, at: l.burstAt})
	}
	return c.release(at, out)
}

// hold inserts ch into held, keeping it sorted by time.
func (c *core) hold(ch change) {
	k := len(c.held)
	for k > 0 && c.held[k-1].at.After(ch.at) {
		k--
	}
	c.held = append(c.held, change{})
	copy(c.held[k+1:], c.held[k:])
	c.held[k] = ch
}

// release moves the held changes that no open burst can precede to out.
func (c *core) release(now time.Time, out []change) []change {
	var limit time.Time
	limited := false
	for i := range c.lines {
		l := &c.lines[i]
		if !l.burst || now.Sub(l.burstAt) > maxBlockBursts*c.window {
			continue
		}
		if !limited || l.burstAt.Before(limit) {
			limit, limited = l.burstAt, true
		}
	}
	n := 0
	for _, h := range c.held {
		if limited && !h.at.Before(limit) {
			break
		}
		if h.at.Before(c.lastAt) {
			h.at = c.lastAt // never go back in time, whatever the clock did
		}
		c.lastAt = h.at
		out = append(out, h)
		n++
	}
	c.held = append(c.held[:0], c.held[n:]...)
	return out
}

// change is a debounced level change of one line.
type change struct {
	line int
	on   bool      // the line is now active
	at   time.Time // first edge of the burst that led to it
}

// assembler turns one line's debounced changes into pulses.
type assembler struct {
	minPulse time.Duration
	active   bool
	start    time.Time
	known    bool // start is known (the line was not already active at start-up)
}

// feed takes the next change of the line; it returns a pulse when an active
// stretch of at least minPulse ends, and whether the stretch was too short.
func (a *assembler) feed(c change) (p Pulse, ok, short bool) {
	if c.on {
		a.active, a.start, a.known = true, c.at, true
		return Pulse{}, false, false
	}
	wasKnown := a.active && a.known
	a.active, a.known = false, false
	if !wasKnown {
		return Pulse{}, false, false
	}
	if c.at.Sub(a.start) < a.minPulse {
		return Pulse{}, false, true
	}
	return Pulse{Start: a.start, End: c.at}, true, false
}
