package detect

import "github.com/omo-edge/edge-agent/internal/sensor"

// blob is one occupancy of one side (a ToF zone seeing someone, a beam
// blocked), from start to end, in ms.
type blob struct {
	s, e int64
	n    int   // valid readings that saw someone (level sensors: 1 << 30)
	minD int64 // nearest distance seen (ToF), 0 for level sensors
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
	// A blob with fewer than minN readings (a runner sampled once, or a
	// glitch) pairs only with a blob that saw the same height: its nearest
	// distance within matchMM.
	minN    int
	matchMM int64
	active  [2]bool
	start   [2]int64
	done    [2]blobRing
}

// begin notes that side ch became occupied at t.
func (k *tracker) begin(ch int, t int64) {
	k.active[ch], k.start[ch] = true, t
}

// cancel forgets side ch's current blob (an obstruction, too short).
func (k *tracker) cancel(ch int) { k.active[ch] = false }

// end closes side ch's blob at e (the first time it was seen clear); now is
// the time this became certain, which stamps the event.
func (k *tracker) end(ch int, e, now int64, n int, minD int64, out []sensor.Event) []sensor.Event {
	if !k.active[ch] {
		return out
	}
	k.active[ch] = false
	s := k.start[ch]
	o := 1 - ch
	other := &k.done[o]
	for i := 0; i < other.n; i++ {
		c := other.b[i]
		if c.s < s && c.e < e && s <= c.e+k.maxGap && k.plausible(c, o, s, n, minD) {
			typ := sensor.Entry
			if ch == 0 {
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
			return append(out, sensor.Event{TMs: now, Sensor: k.sensor, Type: typ})
		}
	}
	// No crossing: what the other side saw during this blob was nested in
	// it (a U-turn's far step, an arm swing) and must not pair later.
	other.dropIf(func(x blob) bool { return x.s >= s })
	k.done[ch].push(blob{s: s, e: e, n: n, minD: minD})
	return out
}

// plausible reports whether candidate c on side o and this side's blob
// (start s, n readings, nearest minD) can be one person crossing.
func (k *tracker) plausible(c blob, o int, s int64, n int, minD int64) bool {
	cShort, short := c.n < k.minN, n < k.minN
	switch {
	case !cShort && !short:
		return true
	case cShort && short:
		return false // two glitches, or a glitch and an arm swing
	case cShort && k.active[o] && k.start[o] > s:
		// Someone reached side o while this blob lasted: this person goes
		// on there; the short blob before was a glitch.
		return false
	}
	d := c.minD - minD
	return d <= k.matchMM && d >= -k.matchMM
}
