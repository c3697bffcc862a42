package edge

import "time"

// This file is a pure core: it sees observations of the lines (a time and
// the level read then) and decides what changed. It never reads a clock; a
// Watcher feeds it.

// Change is a debounced level change of one line.
type Change struct {
	Line int       // index of the line, as in the initial levels given to NewLines
	On   bool      // the line is now active
	At   time.Time // first edge of the burst that led to it
}

// line debounces one input.
type line struct {
	stable  bool      // debounced level: active or not
	last    bool      // level read at the latest observation
	lastAt  time.Time // time of that observation
	burst   bool      // edges seen since the level was last stable
	burstAt time.Time // time of the first of them
}

// Lines debounces the lines and releases their changes in time order.
//
// A change is stamped with the start of the burst of edges that led to it,
// but it is only known once the line has been quiet for window. A change of
// one line is therefore held while another line has an open burst that began
// earlier: that burst may still settle into an earlier change. This keeps At
// non-decreasing across lines, which a consumer ordering the lines needs
// (two beams of a doorway, the in and out outputs of a counter).
//
// Lines implements Handler[Change].
type Lines struct {
	window time.Duration
	lines  []line
	held   []Change // settled, waiting for older bursts; sorted by At
	lastAt time.Time
}

// maxBlockWindows bounds, in windows, how long a burst that never settles (a
// line flapping with noise) can hold back the other lines' changes.
const maxBlockWindows = 100

// NewLines debounces len(initial) lines over window; initial[i] is the level
// line i reads at the start.
func NewLines(window time.Duration, initial []bool) *Lines {
	c := &Lines{window: window, lines: make([]line, len(initial))}
	for i, on := range initial {
		c.lines[i].stable = on
		c.lines[i].last = on
	}
	return c
}

// Observe records that line i read on at time at, right after an edge.
// Released changes are appended to out.
func (c *Lines) Observe(i int, at time.Time, on bool, out []Change) []Change {
	l := &c.lines[i]
	if !l.burst {
		l.burst = true
		l.burstAt = at
	}
	l.last, l.lastAt = on, at
	return c.release(at, out)
}

// Due returns when line i's open burst settles if no edge comes first.
func (c *Lines) Due(i int) (time.Time, bool) {
	l := &c.lines[i]
	return l.lastAt.Add(c.window), l.burst
}

// Settle records that line i read on at time at and saw no edge since its
// last observation. When the line has been quiet for the window the burst
// closes; a level different from the stable one is a change. Released
// changes are appended to out.
func (c *Lines) Settle(i int, at time.Time, on bool, out []Change) []Change {
	l := &c.lines[i]
	if !l.burst {
		if on == l.stable {
			return out
		}
		// The level moved with no edge reported (an edge lost by the
		// back-end): treat it as an edge seen now.
		return c.Observe(i, at, on, out)
	}
	if on != l.last {
		return c.Observe(i, at, on, out)
	}
	if at.Sub(l.lastAt) < c.window {
		return out
	}
	l.burst = false
	if on != l.stable {
		l.stable = on
		c.hold(Change{Line: i, On: on, At: l.burstAt})
	}
	return c.release(at, out)
}

// hold inserts ch into held, keeping it sorted by At.
func (c *Lines) hold(ch Change) {
	k := len(c.held)
	for k > 0 && c.held[k-1].At.After(ch.At) {
		k--
	}
	c.held = append(c.held, Change{})
	copy(c.held[k+1:], c.held[k:])
	c.held[k] = ch
}

// release moves the held changes that no open burst can precede to out.
func (c *Lines) release(now time.Time, out []Change) []Change {
	var limit time.Time
	limited := false
	for i := range c.lines {
		l := &c.lines[i]
		if !l.burst || now.Sub(l.burstAt) > maxBlockWindows*c.window {
			continue
		}
		if !limited || l.burstAt.Before(limit) {
			limit, limited = l.burstAt, true
		}
	}
	n := 0
	for _, h := range c.held {
		if limited && !h.At.Before(limit) {
			break
		}
		if h.At.Before(c.lastAt) {
			h.At = c.lastAt // never go back in time, whatever the clock did
		}
		c.lastAt = h.At
		out = append(out, h)
		n++
	}
	c.held = append(c.held[:0], c.held[n:]...)
	return out
}
