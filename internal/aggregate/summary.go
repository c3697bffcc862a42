package aggregate

import (
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Summary totals windows over a whole replay (trace-v1's last line).
type Summary struct {
	specs      []sensor.Spec
	start, end int64
	any        bool
	totals     []Counts
}

// NewSummary starts an empty summary for the given sensors.
func NewSummary(specs []sensor.Spec) *Summary {
	return &Summary{specs: specs, totals: make([]Counts, len(specs))}
}

// Add folds one closed window in.
func (s *Summary) Add(w *Window) {
	if !s.any || w.Start < s.start {
		s.start = w.Start
	}
	if !s.any || w.End > s.end {
		s.end = w.End
	}
	s.any = true
	for i := range w.Sensors {
		s.totals[i].merge(&w.Sensors[i])
	}
}

// Totals returns the per-sensor totals so far.
func (s *Summary) Totals() []Counts { return s.totals }

// AppendJSON appends the summary line. start and end default to the first
// window's start and the last window's end; pass the trace's own span when
// there were no windows.
func (s *Summary) AppendJSON(b []byte, start, end int64) []byte {
	if s.any {
		start, end = s.start, s.end
	}
	b = append(b, `{"type":"summary"`...)
	b = appendStr(append(b, `,"start":`...), rfc3339(start))
	b = appendStr(append(b, `,"end":`...), rfc3339(end))
	b = append(b, `,"sensors":{`...)
	for i, sp := range s.specs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, sp.ID)
		b = append(b, ":{"...)
		body := appendRoleFields(nil, sp.Role, &s.totals[i])
		if len(body) > 0 {
			body = body[1:] // drop the leading comma
		}
		b = append(b, body...)
		b = append(b, '}')
	}
	b = append(b, '}')
	b = appendRates(b, s.specs, s.totals)
	return append(b, '}')
}
