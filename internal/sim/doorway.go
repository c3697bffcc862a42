package sim

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Real-doorway effects, measured on real beams by people who count doors
// (issue 8). Each is off when its Config field is zero, so the scenarios
// that do not ask for them draw exactly the worlds they drew before.
const (
	// Clear gaps inside one body's block of a beam (the gap between arm
	// and torso, a swinging bag, loose clothing): 1 to maxInteriorGaps per
	// block, each interiorGapMinMs..interiorGapMaxMs, anywhere inside it.
	interiorGapMinMs = 6
	interiorGapMaxMs = 40
	maxInteriorGaps  = 3
	// Leading flicker: a hand ahead of the body cuts the first beam it
	// meets for leadFlickMinMs..leadFlickMaxMs, starting leadMinMs..leadMaxMs
	// before the body blocks it; being ahead of the body, it cuts the
	// second beam the same time ahead (± leadJitterMs) with pLeadBoth.
	leadMinMs      = 40
	leadMaxMs      = 120
	leadFlickMinMs = 8
	leadFlickMaxMs = 30
	leadJitterMs   = 5
	pLeadBoth      = 0.6
	// SeparableGapMM: a person whose body is less than this behind the
	// body ahead, walking the same way at the same speed (a tailgater), or
	// who walks abreast of another (within ±abreastMM along the walking
	// axis), is not separable from that person: on a line sensor the two
	// make one block. Tailgaters are drawn 0..SeparableGapMM apart, so every
	// follower of a pair is inseparable; see World.Separable.
	SeparableGapMM = 60
	abreastMM      = 60
)

func (c Config) walkMin() float64 {
	if c.SpeedMinMMs > 0 {
		return float64(c.SpeedMinMMs)
	}
	return 1000
}

func (c Config) walkMax() float64 {
	if c.SpeedMaxMMs > 0 {
		return float64(c.SpeedMaxMMs)
	}
	return 1600
}

// validateDoorway checks the real-doorway fields.
func (c Config) validateDoorway(k configCheck) error {
	if c.SpeedMinMMs != 0 || c.SpeedMaxMMs != 0 {
		if c.SpeedMinMMs < 300 || c.SpeedMaxMMs < c.SpeedMinMMs || c.SpeedMaxMMs > 6000 {
			return k.bad("SpeedMinMMs..SpeedMaxMMs", fmt.Sprint(c.SpeedMinMMs, "..", c.SpeedMaxMMs), "want 300 <= min <= max <= 6000 (or both 0)")
		}
	}
	if c.DepthMinMM != 0 || c.DepthMaxMM != 0 {
		if c.DepthMinMM < 100 || c.DepthMaxMM < c.DepthMinMM || c.DepthMaxMM > 600 {
			return k.bad("DepthMinMM..DepthMaxMM", fmt.Sprint(c.DepthMinMM, "..", c.DepthMaxMM), "want 100 <= min <= max <= 600 (or both 0)")
		}
	}
	if err := k.probabilities(field{"PInteriorGaps", c.PInteriorGaps}, field{"PLeadFlicker", c.PLeadFlicker},
		field{"PTailgate", c.PTailgate}, field{"PSideBySide", c.PSideBySide}); err != nil {
		return err
	}
	if s := c.PTailgate + c.PSideBySide; s > 1 {
		return k.bad("PTailgate+PSideBySide", s, "want <= 1")
	}
	return nil
}

// pair draws, with PTailgate or PSideBySide, a party of two who cross
// together arriving at t: a tailgater whose body is 0..SeparableGapMM
// behind the leader's, or one walking abreast (±abreastMM), at the
// leader's speed. It reports whether it drew one (and scheduled both).
func (w *World) pair(rng *rand.Rand, dir int, t float64, sched *[]*Person) bool {
	c := w.cfg
	if c.PTailgate+c.PSideBySide == 0 {
		return false
	}
	r := rng.Float64()
	tailgate := r < c.PTailgate
	if !tailgate && r >= c.PTailgate+c.PSideBySide {
		return false
	}
	v := w.drawVisit(rng, dir)
	v.Behaviour = Cross
	lead := w.scripted(rng, v)
	w.place(lead, t, 400, *sched)
	v = w.drawVisit(rng, dir)
	v.Behaviour, v.SpeedMMs = Cross, lead.SpeedMMs
	f := w.scripted(rng, v)
	f.Follows = true
	behind := uniform(rng, -abreastMM, abreastMM) // mm the follower's centre is behind the leader's
	if tailgate {
		behind = lead.hipHalf + f.hipHalf + uniform(rng, 0, SeparableGapMM)
	}
	f.shift(lead.kt[0] + behind*1000/float64(lead.SpeedMMs))
	*sched = append(*sched, lead, f)
	return true
}

// interiorGaps returns one person's blocks of a beam with, for a share
// PInteriorGaps of them, 1..maxInteriorGaps clear gaps cut inside (at
// least 1 ms of body before, after and between them).
func (w *World) interiorGaps(rng *rand.Rand, blocks []interval) []interval {
	c := w.cfg
	if c.PInteriorGaps == 0 {
		return blocks
	}
	var out []interval
	for _, x := range blocks {
		if rng.Float64() >= c.PInteriorGaps {
			out = append(out, x)
			continue
		}
		var cuts []interval
		for n := 1 + rng.IntN(maxInteriorGaps); n > 0; n-- {
			d := int64(interiorGapMinMs + rng.IntN(interiorGapMaxMs-interiorGapMinMs+1))
			room := x.end - x.start - d - 2
			if room < 0 {
				continue
			}
			s := x.start + 1 + rng.Int64N(room+1)
			g := interval{s, s + d}
			if !touchesAny(cuts, g) {
				cuts = append(cuts, g)
			}
		}
		sort.Slice(cuts, func(i, j int) bool { return cuts[i].start < cuts[j].start })
		at := x.start
		for _, g := range cuts {
			out = append(out, interval{at, g.start})
			at = g.end
		}
		out = append(out, interval{at, x.end})
	}
	return out
}

// touchesAny reports whether g overlaps or touches one of ivs.
func touchesAny(ivs []interval, g interval) bool {
	for _, x := range ivs {
		if g.start <= x.end && x.start <= g.end {
			return true
		}
	}
	return false
}

// leadFlicker adds, for a share PLeadFlicker of people, the hand that cuts
// the beams ahead of the body; first is when the body first blocks each
// beam (-1: never).
func (w *World) leadFlicker(rng *rand.Rand, p *Person, first [2]int64, body *[2][]interval) {
	c := w.cfg
	if c.PLeadFlicker == 0 || rng.Float64() >= c.PLeadFlicker {
		return
	}
	lead := int64(leadMinMs + rng.IntN(leadMaxMs-leadMinMs+1))
	fb := 0 // the beam the person meets first
	if p.Dir < 0 {
		fb = 1
	}
	for _, b := range [2]int{fb, 1 - fb} {
		if first[b] < 0 || b != fb && rng.Float64() >= pLeadBoth {
			continue
		}
		s := first[b] - lead
		if b != fb {
			s += int64(rng.IntN(2*leadJitterMs+1)) - leadJitterMs
		}
		d := int64(leadFlickMinMs + rng.IntN(leadFlickMaxMs-leadFlickMinMs+1))
		(*body)[b] = append((*body)[b], interval{s, s + d})
	}
}

// Separable counts, like Truth, the crossings completed in [fromMs, toMs),
// but the follower of a tailgating or side-by-side pair (Person.Follows:
// closer than SeparableGapMM behind, or abreast) is not counted: the pair
// is one. A detector that cannot tell such people apart counts between
// Separable and Truth; more than Truth is always an error.
func (w *World) Separable(fromMs, toMs int64) Truth { return w.truth(fromMs, toMs, true) }
