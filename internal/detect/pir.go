package detect

import (
	"fmt"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

var pirParams = []param{
	{name: "hold_ms", def: 3000, min: 0, max: 600000,
		doc: "the module's hold time (Tx on an HC-SR501): its output stays high this long after the last motion, so it is taken off each episode's end"},
	{name: "merge_gap_ms", def: 6000, min: 0, max: 600000,
		doc: "an episode whose last motion and the next rise are at most this far apart continues (a shopper standing still for a while)"},
	{name: "max_presence_ms", def: 900000, min: 10000, max: 86400000,
		doc: "an output high longer than this is a fault or a heat source, not a shopper: dropped"},
}

// pir detects stop-bys with a PIR motion module (kind pir) on channel
// motion, fed the changes of its output.
//
// A PIR sees motion, not presence. In repeatable-trigger mode the output
// rises at the first motion and falls hold_ms after the last, so an
// episode runs from a rise to the fall minus hold_ms (the last motion);
// episodes whose gap from that last motion to the next rise is at most
// merge_gap_ms are one stop. How the estimate is biased:
//   - a shopper standing still longer than merge_gap_ms (reading a label)
//     is split: each part counts only if it reaches dwell_min_ms, so the
//     stop is shortened, lost, or (rarely) counted twice;
//   - the module is blind for its block time (about 2.5 s) after each fall,
//     so a still shopper's next motion can be seen late: dwell is
//     shortened;
//   - the module's view is wider than the space in front of the shelf:
//     motion of walking in and out is seen a little before arrival and
//     after departure, lengthening dwell by about a second; people walking
//     past close behind each other chain into one episode that may count;
//   - back-to-back shoppers are one episode when the second moves within
//     hold_ms + merge_gap_ms of the first's last motion: under-counted,
//     their dwells summed.
//
// Prefer a distance sensor (tof-presence) where stillness matters.
type pir struct {
	sensor      int
	dwellMin    int64
	hold        int64
	mergeGap    int64
	maxPresence int64

	high    bool
	riseT   int64
	stuck   bool // high longer than maxPresence: ignore until it falls
	inEp    bool
	epStart int64 // first motion (a rise)
	lastMot int64 // last motion (a fall minus hold), while !high

	h Health
}

func newPIR(spec sensor.Spec, index int, p values) (Detector, error) {
	if spec.DwellMinMs <= 0 {
		return nil, fmt.Errorf("sensor %q: key dwell_min_ms=%d: want > 0", spec.ID, spec.DwellMinMs)
	}
	return &pir{
		sensor:      index,
		dwellMin:    spec.DwellMinMs,
		hold:        p.get("hold_ms"),
		mergeGap:    p.get("merge_gap_ms"),
		maxPresence: p.get("max_presence_ms"),
		h:           Health{Learned: true, LastTMs: -1},
	}, nil
}

func (d *pir) Health() Health { return d.h }

// settle closes, at now, an episode whose gap has grown past merge_gap_ms,
// and drops one whose output has stayed high too long.
func (d *pir) settle(now int64, out []sensor.Event) []sensor.Event {
	if !d.inEp {
		return out
	}
	if d.high {
		if now-d.riseT > d.maxPresence {
			d.inEp, d.stuck = false, true
		}
		return out
	}
	if now-d.lastMot > d.mergeGap {
		d.inEp = false
		if dwell := d.lastMot - d.epStart; dwell >= d.dwellMin {
			out = append(out, sensor.Event{TMs: now, Sensor: d.sensor, Type: sensor.StopBy, DwellMs: dwell})
		}
	}
	return out
}

func (d *pir) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel != 0 {
		return out
	}
	t := r.TMs
	d.h.Readings++
	d.h.LastTMs = t
	out = d.settle(t, out)
	v := r.Value != 0
	if v == d.high {
		return out // a repeated level says nothing new
	}
	d.high = v
	if v {
		d.riseT = t
		if !d.inEp {
			d.inEp, d.epStart = true, t
		}
		return out
	}
	if d.stuck {
		d.stuck = false
		return out
	}
	// The output falls hold after the last motion; a pulse shorter than
	// hold (a module set differently, a glitch) had its motion at the rise.
	d.lastMot = max(t-d.hold, d.riseT)
	return d.settle(t, out)
}

func (d *pir) Flush(tMs int64, out []sensor.Event) []sensor.Event { return d.settle(tMs, out) }
