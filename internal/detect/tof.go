package detect

import (
	"fmt"
	"sort"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

var tofParams = []param{
	{name: "baseline_z0_mm", min: 200, max: 4000, optional: true,
		doc: "calibrated idle (floor) distance of zone z0; absent: learned"},
	{name: "baseline_z1_mm", min: 200, max: 4000, optional: true,
		doc: "calibrated idle (floor) distance of zone z1; absent: learned"},
	{name: "threshold_mm", def: 300, min: 50, max: 3000,
		doc: "a zone is occupied when its distance is this much shorter than its baseline"},
	{name: "hysteresis_mm", def: 100, min: 0, max: 1000,
		doc: "an occupied zone is clear again only when its distance is within threshold_mm - hysteresis_mm of the baseline"},
	{name: "min_readings", def: 2, min: 1, max: 20,
		doc: "a zone occupancy with fewer valid occupied readings (a runner sampled once, a glitch) pairs only with a short one of the other zone"},
	{name: "match_mm", def: 350, min: 0, max: 3000,
		doc: "the nearest distances the two zones saw must be this close to be one person crossing (the same head)"},
	{name: "release_readings", def: 2, min: 1, max: 20,
		doc: "consecutive valid clear readings that end a zone's occupancy"},
	{name: "min_presence_ms", def: 0, min: 0, max: 10000,
		doc: "shortest zone occupancy that counts"},
	{name: "max_gap_ms", def: 200, min: 0, max: 5000,
		doc: "how long after one zone cleared the other may first see the same person (a child can be too narrow to be seen by both zones at once)"},
	{name: "max_invalid_ms", def: 2000, min: 100, max: 60000,
		doc: "invalid readings (-1) are skipped; longer than this, an occupied zone is closed"},
	{name: "max_presence_ms", def: 120000, min: 1000, max: 3600000,
		doc: "an occupancy longer than this is an obstruction: dropped, and a learned baseline relearned"},
	{name: "learn_readings", def: 16, min: 3, max: 1000,
		doc: "valid readings per zone whose median is the learned baseline (no events until learned)"},
}

// tofZone is the occupancy state of one VL53L1X zone.
type tofZone struct {
	baseQ4  int64 // baseline in 1/16 mm; 0 while learning
	fixed   bool  // calibrated by a key: never adapted
	learn   []int64
	farRun  int // consecutive readings well beyond the baseline
	occ     bool
	inBlob  bool
	start   int64 // first occupied reading of the blob
	nOcc    int   // occupied readings in the blob
	min1    int64 // nearest distance in the blob
	min2    int64 // second nearest: what a single glitch cannot fake
	max     int64 // farthest occupied distance
	clearN  int   // consecutive clear readings
	clearT  int64 // first of them
	lastOcc int64
	invT    int64 // first invalid reading of the current run, -1 none
	prevInv int64 // time of the previous reading if it was invalid, else -1
	lastT   int64
}

type tof struct {
	k                   tracker
	z                   [2]tofZone
	thr, hyst           int64
	release             int
	minPresence, maxInv int64
	maxPresence         int64
	learnN              int
	h                   Health
}

func newToF(spec sensor.Spec, index int, p values) (Detector, error) {
	d := &tof{
		k: tracker{sensor: index, passerby: spec.Role == sensor.RolePasserby, maxGap: p.get("max_gap_ms"),
			minN: int(p.get("min_readings")), matchMM: p.get("match_mm")},
		thr:         p.get("threshold_mm"),
		hyst:        p.get("hysteresis_mm"),
		release:     int(p.get("release_readings")),
		minPresence: p.get("min_presence_ms"),
		maxInv:      p.get("max_invalid_ms"),
		maxPresence: p.get("max_presence_ms"),
		learnN:      int(p.get("learn_readings")),
		h:           Health{LastTMs: -1},
	}
	if d.hyst >= d.thr {
		return nil, fmt.Errorf("sensor %q: key hysteresis_mm=%d: want less than threshold_mm (%d)", spec.ID, d.hyst, d.thr)
	}
	for i, key := range [2]string{"baseline_z0_mm", "baseline_z1_mm"} {
		z := &d.z[i]
		z.invT, z.prevInv = -1, -1
		z.learn = make([]int64, 0, d.learnN)
		if p.set[key] {
			b := p.get(key)
			if b <= d.thr {
				return nil, fmt.Errorf("sensor %q: key %s=%d: want more than threshold_mm (%d)", spec.ID, key, b, d.thr)
			}
			z.baseQ4, z.fixed = b<<4, true
		}
	}
	return d, nil
}

func (d *tof) Health() Health {
	h := d.h
	h.Learned = d.z[0].baseQ4 != 0 && d.z[1].baseQ4 != 0
	for i := range d.z {
		h.BaselineMM[i] = int(d.z[i].baseQ4 >> 4)
	}
	if h.Readings > 0 {
		h.InvalidShare = float64(h.Invalid) / float64(h.Readings)
	}
	return h
}

func (d *tof) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel != 0 && r.Channel != 1 {
		return out
	}
	t := r.TMs
	d.h.Readings++
	d.h.LastTMs = t
	z := &d.z[r.Channel]
	z.lastT = t
	if r.Value < 0 {
		d.h.Invalid++
		if z.invT < 0 {
			z.invT = t
		}
		z.prevInv = t
		if z.inBlob && t-z.invT > d.maxInv {
			// Blind too long: close the occupancy where the sensor lost it.
			out = d.close(r.Channel, z.invT, t, out)
		}
		return out
	}
	prevInv := z.prevInv
	z.invT, z.prevInv = -1, -1
	v := r.Value
	if z.baseQ4 == 0 {
		z.learn = append(z.learn, v)
		if len(z.learn) == d.learnN {
			z.baseQ4 = median(z.learn) << 4
			z.learn = z.learn[:0]
		}
		return out
	}
	base := z.baseQ4 >> 4
	switch {
	case v < base-d.thr:
		z.occ = true
	case v > base-d.thr+d.hyst:
		z.occ = false
	}
	if z.occ {
		z.clearN = 0
		z.lastOcc = t
		if !z.inBlob {
			// An invalid reading right before was most likely the person
			// already (dark hair, a shoulder edge): start the blob there.
			start := t
			if prevInv >= 0 {
				start = prevInv
			}
			z.inBlob, z.start, z.nOcc, z.min1, z.min2, z.max = true, start, 0, v, v, v
			d.k.begin(r.Channel, start)
		}
		z.nOcc++
		if v > z.max {
			z.max = v
		}
		switch {
		case v < z.min1:
			z.min1, z.min2 = v, z.min1
		case v < z.min2 || z.nOcc == 2:
			z.min2 = v
		}
		if t-z.start > d.maxPresence {
			// Something stays under the sensor: not a person passing.
			d.k.cancel(r.Channel)
			z.inBlob, z.occ = false, false
			if !z.fixed {
				z.baseQ4 = v << 4
			}
		}
		return out
	}
	if z.inBlob {
		if z.clearN == 0 {
			z.clearT = t
		}
		z.clearN++
		if z.clearN >= d.release {
			out = d.close(r.Channel, z.clearT, t, out)
		}
		return out
	}
	if z.fixed {
		return out
	}
	// Idle: follow slow drift of the floor distance; jump when the floor is
	// clearly farther for a while (an obstruction went away).
	if v > base+d.thr {
		z.farRun++
		if z.farRun >= d.learnN {
			z.baseQ4, z.farRun = v<<4, 0
		}
		return out
	}
	z.farRun = 0
	if v > base-d.thr+d.hyst {
		z.baseQ4 += (v<<4 - z.baseQ4) >> 5
	}
	return out
}

// close ends zone ch's occupancy at e (decided at now).
func (d *tof) close(ch int, e, now int64, out []sensor.Event) []sensor.Event {
	z := &d.z[ch]
	z.inBlob, z.occ, z.clearN = false, false, 0
	if e-z.start < d.minPresence {
		d.k.cancel(ch)
		return out
	}
	height := z.min1
	if z.nOcc >= 4 { // a runner's 2-3 readings may hold one head reading only
		height = z.min2
	}
	return d.k.end(ch, e, now, z.nOcc, height, z.max-z.min1 <= d.k.matchMM, out)
}

func (d *tof) Flush(tMs int64, out []sensor.Event) []sensor.Event {
	for ch := range d.z {
		z := &d.z[ch]
		if z.inBlob && tMs-z.lastT > d.maxInv {
			// The sensor went silent: close where it was last seen occupied.
			out = d.close(ch, z.lastOcc+1, tMs, out)
		}
	}
	return out
}

// median of a small slice (sorted in place).
func median(x []int64) int64 {
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	return x[len(x)/2]
}
