package detect

import (
	"fmt"
	"slices"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// The shelf kinds plug into New from here.
func init() {
	kindDefs[sensor.KindToFPresence] = kindDef{presenceParams, newPresence}
	kindDefs[sensor.KindPIR] = kindDef{pirParams, newPIR}
}

var presenceParams = []param{
	{name: "baseline_mm", min: 200, max: 8000, optional: true,
		doc: "calibrated idle distance (the far side of the aisle, or the sensor's maximum range); absent: learned"},
	{name: "threshold_mm", def: 300, min: 50, max: 4000,
		doc: "someone is in front of the shelf when the distance is this much shorter than the baseline"},
	{name: "hysteresis_mm", def: 100, min: 0, max: 2000,
		doc: "nobody is there again only when the distance is within threshold_mm - hysteresis_mm of the baseline"},
	{name: "enter_readings", def: 2, min: 1, max: 20,
		doc: "consecutive present readings that confirm someone (a single glitch confirms nothing)"},
	{name: "merge_gap_ms", def: 800, min: 0, max: 60000,
		doc: "readings seeing nobody for up to this long (a pose shift, the sensor seeing past a shopper) do not split a stop; longer, the stop ended"},
	{name: "max_invalid_ms", def: 5000, min: 100, max: 60000,
		doc: "invalid readings (-1) are skipped, they neither split nor make a stop; blind longer than this (or silent), a stop is closed where it was last seen"},
	{name: "max_presence_ms", def: 900000, min: 10000, max: 86400000,
		doc: "a presence longer than this is an obstruction (a cart, a box): dropped, and a learned baseline relearned"},
	{name: "level_mm", def: 100, min: 0, max: 2000,
		doc: "a stop needs someone seen at one distance (within this) from first to last for dwell_min_ms: people walking past one after another are not a stop, and two shoppers at distances this far apart, each seen that long one after the other, are two stops; 0: any presence of dwell_min_ms is one stop"},
	{name: "reach_mm", def: 1000, min: 100, max: 8000,
		doc: "a stop needs that distance (level_mm) to be nearer than this: shoppers stop within reach of the shelf, people walking farther out in the aisle are not stopping (stepping back beyond it for a while does not end a stop)"},
	{name: "learn_readings", def: 20, min: 3, max: 1000,
		doc: "valid readings whose median is the learned baseline (no stops until learned)"},
}

// presence detects stop-bys with a distance sensor on a shelf looking
// across the aisle (kind tof-presence): readings → presence episodes →
// a StopBy with its dwell when an episode of at least DwellMinMs ends.
//
// A reading shorter than baseline - threshold_mm means someone is there;
// enter_readings of them in a row confirm it. An episode ends when valid
// readings have seen nobody for more than merge_gap_ms since the last
// confirmed presence. The arrival is estimated half way between the last
// reading before the presence and its first, the departure half way between
// the last present reading and the next valid one, so dwell carries no
// bias of a sampling period.
// maxLevels is how many distinct distances an episode keeps track of; the
// least seen is forgotten first (a glitch, one reading of an arm).
const maxLevels = 8

// level is one distance at which someone was seen during an episode.
type level struct {
	mm          int64 // running mean
	first, last int64 // first and last reading at it
}

type presence struct {
	sensor      int
	dwellMin    int64
	thr, hyst   int64
	enterN      int
	mergeGap    int64
	maxInv      int64
	maxPresence int64
	learnN      int

	baseQ4 int64 // baseline in 1/16 mm; 0 while learning
	fixed  bool  // calibrated by a key: never adapted
	learn  []int64
	farRun int // consecutive idle readings well beyond the baseline

	present   bool  // hysteresis state of the last valid reading
	run       int   // consecutive valid present readings
	runFirst  int64 // first of them
	runPrev   int64 // the valid reading before runFirst, -1 none
	lastValid int64 // last valid reading, -1 none
	invT      int64 // first invalid reading of the current run, -1 none

	inEp      bool
	epStart   int64 // estimated arrival
	lastPres  int64 // last confirmed present reading
	afterPres int64 // first valid reading after lastPres, -1 none yet
	runFirstV int64 // distance of runFirst

	levelMM int64
	reachMM int64
	levels  [maxLevels]level // distances seen in the episode
	nLevels int
	period  int64 // typical time between readings (running average)

	h Health
}

func newPresence(spec sensor.Spec, index int, p values) (Detector, error) {
	if spec.DwellMinMs <= 0 {
		return nil, fmt.Errorf("sensor %q: key dwell_min_ms=%d: want > 0", spec.ID, spec.DwellMinMs)
	}
	d := &presence{
		sensor:      index,
		dwellMin:    spec.DwellMinMs,
		thr:         p.get("threshold_mm"),
		hyst:        p.get("hysteresis_mm"),
		enterN:      int(p.get("enter_readings")),
		mergeGap:    p.get("merge_gap_ms"),
		maxInv:      p.get("max_invalid_ms"),
		maxPresence: p.get("max_presence_ms"),
		learnN:      int(p.get("learn_readings")),
		levelMM:     p.get("level_mm"),
		reachMM:     p.get("reach_mm"),
		runPrev:     -1,
		lastValid:   -1,
		invT:        -1,
		afterPres:   -1,
		h:           Health{LastTMs: -1},
	}
	if d.hyst >= d.thr {
		return nil, fmt.Errorf("sensor %q: key hysteresis_mm=%d: want less than threshold_mm (%d)", spec.ID, d.hyst, d.thr)
	}
	if p.set["baseline_mm"] {
		b := p.get("baseline_mm")
		if b <= d.thr {
			return nil, fmt.Errorf("sensor %q: key baseline_mm=%d: want more than threshold_mm (%d)", spec.ID, b, d.thr)
		}
		d.baseQ4, d.fixed = b<<4, true
	} else {
		d.learn = make([]int64, 0, d.learnN)
	}
	return d, nil
}

func (d *presence) Health() Health {
	h := d.h
	h.Learned = d.baseQ4 != 0
	h.BaselineMM[0] = int(d.baseQ4 >> 4)
	if h.Readings > 0 {
		h.InvalidShare = float64(h.Invalid) / float64(h.Readings)
	}
	return h
}

func (d *presence) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel != 0 {
		return out
	}
	t := r.TMs
	if d.h.LastTMs >= 0 {
		if d.inEp && t-d.h.LastTMs > d.maxInv {
			out = d.close(t, out) // the sensor was silent
		}
		if dt := t - d.h.LastTMs; dt <= d.maxInv {
			if d.period == 0 {
				d.period = dt
			}
			d.period += (dt - d.period) / 16
		}
	}
	d.h.Readings++
	d.h.LastTMs = t
	if r.Value < 0 {
		d.h.Invalid++
		if d.invT < 0 {
			d.invT = t
		}
		if d.inEp && t-d.invT > d.maxInv {
			out = d.close(t, out) // blind too long
		}
		return out
	}
	d.invT = -1
	v := r.Value
	if d.baseQ4 == 0 {
		d.learn = append(d.learn, v)
		if len(d.learn) == d.learnN {
			slices.Sort(d.learn)
			d.baseQ4 = d.learn[len(d.learn)/2] << 4
			d.learn = d.learn[:0]
		}
		d.lastValid = t
		return out
	}
	base := d.baseQ4 >> 4
	switch {
	case v < base-d.thr:
		d.present = true
	case v > base-d.thr+d.hyst:
		d.present = false
	}
	prev := d.lastValid
	d.lastValid = t
	if d.present {
		if d.run == 0 {
			d.runFirst, d.runPrev, d.runFirstV = t, prev, v
		}
		d.run++
		if d.run < d.enterN {
			return out
		}
		if !d.inEp {
			d.inEp, d.nLevels = true, 0
			d.epStart = d.runFirst
			if d.runPrev >= 0 {
				d.epStart = (d.runPrev + d.runFirst) / 2
			}
		}
		if d.run == d.enterN && d.enterN > 1 {
			d.see(d.runFirst, d.runFirstV)
		}
		d.see(t, v)
		d.lastPres, d.afterPres = t, -1
		if t-d.epStart > d.maxPresence {
			// Something stays in front of the shelf: not a shopper.
			d.inEp, d.run = false, 0
			if !d.fixed {
				d.baseQ4 = v << 4
				d.present = false
			}
		}
		return out
	}
	d.run = 0
	if d.inEp {
		if d.afterPres < 0 {
			d.afterPres = t
		}
		if t-d.lastPres > d.mergeGap {
			out = d.close(t, out)
		}
		return out
	}
	if d.fixed {
		return out
	}
	// Idle: follow slow drift of the far side; jump when it is clearly
	// farther for a while (an obstruction went away, or learning saw one).
	if v > base+d.thr {
		d.farRun++
		if d.farRun >= d.learnN {
			d.baseQ4, d.farRun = v<<4, 0
		}
		return out
	}
	d.farRun = 0
	d.baseQ4 += (v<<4 - d.baseQ4) >> 6
	return out
}

// see records a present reading at its level.
func (d *presence) see(t, v int64) {
	if d.levelMM == 0 {
		return
	}
	best, bestD := -1, d.levelMM+1
	for i := 0; i < d.nLevels; i++ {
		if dd := abs64(v - d.levels[i].mm); dd < bestD {
			best, bestD = i, dd
		}
	}
	if best >= 0 {
		l := &d.levels[best]
		l.mm += (v - l.mm) / 16
		l.last = t
		return
	}
	i := d.nLevels
	if i == maxLevels {
		// Forget the level seen over the shortest span.
		i = 0
		for j := 1; j < maxLevels; j++ {
			if d.levels[j].last-d.levels[j].first < d.levels[i].last-d.levels[i].first {
				i = j
			}
		}
	} else {
		d.nLevels++
	}
	d.levels[i] = level{mm: v, first: t, last: t}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// close ends the episode, decided at now, and emits its stop-bys: one per
// level within reach_mm seen for dwell_min_ms whose span does not overlap a
// longer one's
// (with level_mm 0, the whole episode if it lasted dwell_min_ms).
func (d *presence) close(now int64, out []sensor.Event) []sensor.Event {
	end := d.lastPres
	if d.afterPres >= 0 {
		end = (d.lastPres + d.afterPres) / 2
	}
	d.inEp, d.run, d.afterPres = false, 0, -1
	if d.levelMM == 0 {
		if dwell := end - d.epStart; dwell >= d.dwellMin {
			out = append(out, sensor.Event{TMs: now, Sensor: d.sensor, Type: sensor.StopBy, DwellMs: dwell})
		}
		return out
	}
	// Longest spans first; keep those that qualify and overlap no kept one.
	var idx [maxLevels]int
	for i := range d.nLevels {
		idx[i] = i
		for j := i; j > 0 && d.span(idx[j]) > d.span(idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	var kept [maxLevels]level
	nk := 0
	for _, i := range idx[:d.nLevels] {
		if d.span(i) < d.dwellMin {
			break
		}
		l := d.levels[i]
		ok := l.mm < d.reachMM
		for _, k := range kept[:nk] {
			if l.first <= k.last && k.first <= l.last {
				ok = false
				break
			}
		}
		if ok {
			// Keep kept sorted by time.
			j := nk
			for ; j > 0 && kept[j-1].first > l.first; j-- {
				kept[j] = kept[j-1]
			}
			kept[j] = l
			nk++
		}
	}
	half := d.period / 2
	for i, l := range kept[:nk] {
		from, to := l.first-half, l.last+half
		if i == 0 {
			from = d.epStart
		}
		if i == nk-1 {
			to = end
		}
		if dwell := to - from; dwell >= d.dwellMin {
			out = append(out, sensor.Event{TMs: now, Sensor: d.sensor, Type: sensor.StopBy, DwellMs: dwell})
		}
	}
	return out
}

// span is how long level i was seen, counting one reading period.
func (d *presence) span(i int) int64 { return d.levels[i].last - d.levels[i].first + d.period }

func (d *presence) Flush(tMs int64, out []sensor.Event) []sensor.Event {
	if d.inEp && tMs-d.h.LastTMs > d.maxInv {
		out = d.close(tMs, out) // the sensor went silent
	}
	return out
}
