package pir

import "time"

// core is the pure part of the driver: it debounces the output line and
// turns its high stretches into motion episodes. It never reads a clock.
type core struct {
	window    time.Duration // debounce
	hold      time.Duration // module's Tx
	mergeGap  time.Duration // single-trigger: a rise this soon after a fall continues the episode
	retrigger bool

	// debouncer
	stable, last    bool
	lastAt, burstAt time.Time
	burst           bool

	// episode
	pulseStart  time.Time // rise of the current (or last) high stretch
	pendingStop bool      // single-trigger: fell at fallAt, may rise again
	fallAt      time.Time
}

// newCore starts with the line at level initial, read at time now.
func newCore(o Opts, initial bool, now time.Time) *core {
	c := &core{window: o.Debounce, hold: o.Hold, retrigger: o.Retrigger, stable: initial, last: initial, pulseStart: now}
	c.mergeGap = o.Block + o.Block/2 // the block time Ti varies with its RC parts
	return c
}

// observe records that the line read on at time at, right after an edge.
func (c *core) observe(at time.Time, on bool, out []Change) []Change {
	if !c.burst {
		c.burst, c.burstAt = true, at
	}
	c.last, c.lastAt = on, at
	return out
}

// due returns the next time settle has something to decide.
func (c *core) due() (time.Time, bool) {
	var t time.Time
	ok := false
	if c.burst {
		t, ok = c.lastAt.Add(c.window), true
	}
	if c.pendingStop {
		if s := c.fallAt.Add(c.mergeGap); !ok || s.Before(t) {
			t, ok = s, true
		}
	}
	return t, ok
}

// settle records that the line read on at time at with no edge since the
// last observation, closing a quiet burst and a stop that can no longer be
// merged.
func (c *core) settle(at time.Time, on bool, out []Change) []Change {
	if c.pendingStop && !at.Before(c.fallAt.Add(c.mergeGap)) && !(c.burst && c.burstAt.Before(c.fallAt.Add(c.mergeGap))) {
		out = c.stop(out)
	}
	if !c.burst {
		if on == c.stable {
			return out
		}
		return c.observe(at, on, out) // the level moved with no edge reported
	}
	if on != c.last {
		return c.observe(at, on, out)
	}
	if at.Sub(c.lastAt) < c.window {
		return out
	}
	c.burst = false
	if on == c.stable {
		return out
	}
	c.stable = on
	if on {
		return c.rise(c.burstAt, out)
	}
	return c.fall(c.burstAt, out)
}

func (c *core) rise(at time.Time, out []Change) []Change {
	if c.pendingStop {
		if at.Sub(c.fallAt) <= c.mergeGap {
			// Single-trigger module re-armed after its block time while
			// motion went on: the same episode.
			c.pendingStop = false
			c.pulseStart = at
			return out
		}
		out = c.stop(out)
	}
	c.pulseStart = at
	return append(out, Change{Motion: true, At: at, LastMotion: at})
}

func (c *core) fall(at time.Time, out []Change) []Change {
	if !c.retrigger {
		c.pendingStop, c.fallAt = true, at
		return out
	}
	// A retriggerable module falls Hold after the last motion it saw.
	last := at.Add(-c.hold)
	if last.Before(c.pulseStart) {
		last = c.pulseStart
	}
	return append(out, Change{Motion: false, At: at, LastMotion: last})
}

// stop reports a pending single-trigger stop: the last motion known is the
// one that started the last high stretch.
func (c *core) stop(out []Change) []Change {
	c.pendingStop = false
	return append(out, Change{Motion: false, At: c.fallAt, LastMotion: c.pulseStart})
}
