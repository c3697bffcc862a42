package pir

import (
	"sort"
	"time"
)

// Module models the output of a BISS0001-based PIR module such as the
// HC-SR501, for simulators and tests: given the times at which the sensor
// element was triggered by motion, it says when the output is high.
type Module struct {
	Hold      time.Duration // Tx: output high time after the (last) trigger
	Block     time.Duration // Ti: blind time after the output falls
	Retrigger bool          // repeatable trigger mode (jumper H)
}

// Span is a stretch of high output.
type Span struct{ Start, End time.Time }

// Output returns the high stretches the module produces for the triggers,
// in order. Triggers need not be sorted.
func (m Module) Output(triggers []time.Time) []Span {
	ts := append([]time.Time(nil), triggers...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	var out []Span
	var blindUntil time.Time
	for _, t := range ts {
		if n := len(out); n > 0 && !t.After(out[n-1].End) {
			// Output is high.
			if m.Retrigger {
				out[n-1].End = t.Add(m.Hold)
				blindUntil = out[n-1].End.Add(m.Block)
			}
			continue
		}
		if t.Before(blindUntil) {
			continue
		}
		end := t.Add(m.Hold)
		out = append(out, Span{Start: t, End: end})
		blindUntil = end.Add(m.Block)
	}
	return out
}
