package detect

import "github.com/omo-edge/edge-agent/internal/sensor"

// blob is one occupancy of one side (a ToF zone seeing someone, a beam
// blocked), from start to end, in ms.
type blob struct {
	s, e int64
	n    int   // valid readings that saw someone (level sensors: 1 << 30)
	minD int64 // nearest distance seen (ToF), 0 for level sensors
	even bool  // its readings agree (one body, not random glitches)
}

// blobRing holds the finished blobs of one side that no crossing has used
// yet, oldest first. It is small and fixed so Feed never allocates: at a
// doorway only a handful of people are ever under the sensor together.
type blobRing struct {
	b [8]blob
	n int
}

func (r *blobRing) push(x blob) {
	if r.n == len(r.b) {
		copy(r.b[:], r.b[1:])
		r.n--
	}
	r.b[r.n] = x
	r.n++
}

// dropIf removes the blobs f selects, keeping the order.
func (r *blobRing) dropIf(f func(blob) bool) {
	k := 0
	for i := 0; i < r.n; i++ {
		if !f(r.b[i]) {
			r.b[k] = r.b[i]
			k++
		}
	}
	r.n = k
}

// tracker pairs the blobs of side 0 (street: z0, beam a) and side 1 (store:
// z1, beam b) into crossings. A person walking in makes a side-0 blob and
// then a side-1 blob that starts after it, ends after it, and starts no
// later than maxGap after it ended. Anything else is not a crossing:
//   - a U-turn or a lingerer who goes back: the far-side blob is nested in
//     the near-side blob (starts after it and ends before it);
//   - an arm swing, a glitch: a short blob on one side only, or nested.
//
// A crossing is decided when its second blob ends, by pairing it with the
// oldest unused blob of the other side that it completes, so people in
// single file (the next one already under side 0 while the first is still
// under side 1) are each counted.
type tracker struct {
	sensor   int
	passerby bool
	maxGap   int64
	skew     int64 // see direction; 0: exact (ToF)
	// The two blobs of a crossing saw the same person: nearest distances
	// within matchMM (level sensors: all 0). A blob of fewer than minN
	// readings pairs only with a runner's short blob.
	minN    int
	matchMM int64
	// taint: when a crossing is counted, a blob still open on the other
	// side that began before this side cleared is the same person's arm
	// swing (beams: a second person cannot block the first beam while the
	// first still blocks the second); it must never pair.
	taint   bool
	tainted [2]bool
	active  [2]bool
	start   [2]int64
	done    [2]blobRing
}

// begin notes that side ch became occupied at t.
func (k *tracker) begin(ch int, t int64) {
	k.active[ch], k.start[ch], k.tainted[ch] = true, t, false
}

// cancel forgets side ch's current blob (an obstruction, too short).
func (k *tracker) cancel(ch int) { k.active[ch] = false }

// end closes side ch's blob at e (the first time it was seen clear); now is
// the time this became certain, which stamps the event.
func (k *tracker) end(ch int, e, now int64, n int, minD int64, even bool, out []sensor.Event) []sensor.Event {
	if !k.active[ch] {
		return out
	}
	k.active[ch] = false
	if k.tainted[ch] {
		return out
	}
	s := k.start[ch]
	o := 1 - ch
	other := &k.done[o]
	for i := 0; i < other.n; i++ {
		c := other.b[i]
		to, ok := k.direction(c, s, e, ch)
		if ok && k.plausible(c, blob{n: n, minD: minD, even: even}) {
			typ := sensor.Entry
			if to == 0 {
				typ = sensor.Exit
			}
			if k.passerby {
				typ = sensor.Passerby
			}
			// Everything left on the other side up to now belongs to this
			// crossing or is stale; on this side, blobs since the crossing
			// began are this person's arm swing or fragments.
			other.dropIf(func(x blob) bool { return x.s <= e })
			k.done[ch].dropIf(func(x blob) bool { return x.s >= c.s })
			if k.taint && k.active[o] && k.start[o] < e {
				k.tainted[o] = true
			}
			return append(out, sensor.Event{TMs: now, Sensor: k.sensor, Type: typ})
		}
	}
	// No crossing: what the other side saw during this blob was nested in
	// it (a U-turn's far step, an arm swing) and must not pair later.
	other.dropIf(func(x blob) bool { return x.s >= s })
	k.done[ch].push(blob{s: s, e: e, n: n, minD: minD, even: even})
	return out
}

// direction reports whether the finished blob c of the other side and
// side ch's blob [s, e), ending now (after c), are one person crossing,
// and towards which side. Exactly (skew 0): c started and ended first, the
// person went towards ch. With skew, each edge may disagree by less than
// skew (a hand or a gap at one beam's edge moved it): the person went the
// way both edges agree within skew, and the two edges' sum points to; a
// far-side blob nested by skew or more at both edges is a U-turn. The side
// reached second must be blocked within maxGap of the first clearing.
func (k *tracker) direction(c blob, s, e int64, ch int) (to int, ok bool) {
	ds, de := s-c.s, e-c.e // > 0: this side later
	switch {
	case ds > -k.skew && de > -k.skew && ds+de > 0 && (k.skew > 0 || ds > 0 && de > 0):
		return ch, s <= c.e+k.maxGap
	case k.skew > 0 && ds < k.skew && de < k.skew && ds+de < 0:
		return 1 - ch, c.s <= e+k.maxGap
	}
	return 0, false
}

// plausible reports whether candidate c on the other side and this side's
// blob b can be one person crossing: the same height seen on both sides,
// and a blob too short to trust (a runner sampled once, or a glitch) only
// with a short partner (a runner's) that is itself convincing.
func (k *tracker) plausible(c, b blob) bool {
	cShort, short := c.n < k.minN, b.n < k.minN
	switch {
	case cShort && short:
		return false // two glitches, or a glitch and an arm swing
	case cShort && b.n > 2*k.minN, short && c.n > 2*k.minN:
		return false // a walker on one side: the short blob was a glitch
	case cShort && b.n+c.n < 2*k.minN && !b.even, short && b.n+c.n < 2*k.minN && !c.even:
		return false // a double glitch and a glitch
	}
	d := c.minD - b.minD
	return d <= k.matchMM && d >= -k.matchMM
}
