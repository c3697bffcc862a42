package pulse

import (
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/internal/edge"
)

// This file is the pure part of the driver: the assembler turns the
// debounced changes of a line (from edge.Lines) into pulses. It never reads
// a clock.

// assembler turns one line's debounced changes into pulses.
type assembler struct {
	minPulse time.Duration
	active   bool
	start    time.Time
	known    bool // start is known (the line was not already active at start-up)
}

// feed takes the next change of the line; it returns a pulse when an active
// stretch of at least minPulse ends, and whether the stretch was too short.
func (a *assembler) feed(c edge.Change) (p Pulse, ok, short bool) {
	if c.On {
		a.active, a.start, a.known = true, c.At, true
		return Pulse{}, false, false
	}
	wasKnown := a.active && a.known
	a.active, a.known = false, false
	if !wasKnown {
		return Pulse{}, false, false
	}
	if c.At.Sub(a.start) < a.minPulse {
		return Pulse{}, false, true
	}
	return Pulse{Start: a.start, End: c.At}, true, false
}
