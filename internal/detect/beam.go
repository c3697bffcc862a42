package detect

import "github.com/omo-edge/edge-agent/internal/sensor"

var beamParams = []param{
	{name: "debounce_ms", def: 6, min: 0, max: 1000,
		doc: "a block begins only if the beam stays blocked this long (filters electrical glitches)"},
	{name: "max_gap_ms", def: 100, min: 0, max: 5000,
		doc: "how long after one beam cleared the other may first be blocked by the same person"},
	{name: "bridge_ms", def: 45, min: 0, max: 500,
		doc: "a beam that clears for less than this is still blocked by the same body (gaps between arm and torso, a bag, loose clothing)"},
	{name: "min_block_ms", def: 40, min: 0, max: 1000,
		doc: "a shorter block (bridged gaps included) is a hand or an arm, not a body: it counts nothing"},
	{name: "skew_ms", def: 35, min: 0, max: 200,
		doc: "the two beams' starts (or ends) may disagree with the crossing's direction by less than this; below spacing / fastest walker (a U-turn's)"},
	{name: "max_presence_ms", def: 120000, min: 1000, max: 3600000,
		doc: "a beam blocked longer than this is obstructed: that blockage counts nothing"},
}

// onsetMs: a block's start, for the order of the two beams, is when it
// has been blocked this long in all (its bridged gaps not counted) less
// onsetMs. A hand ahead of the body (leading flicker, at most 30 ms) that
// was bridged into the block then moves the start only by its own length,
// not by its lead; one that was not is dropped by min_block_ms.
const onsetMs = 35

// beam is the beam-pair detector: per beam, blocks confirmed after
// debounce and ended only by a clear that lasts release (bridging the
// gaps inside one body), fed to the tracker as blobs.
type beam struct {
	k           tracker
	l           [2]debounced
	s           [2]beamSide
	debounce    int64 // a block begins once held this long
	release     int64 // and ends once clear this long: max(debounce_ms, bridge_ms)
	minBlock    int64
	maxPresence int64
	h           Health
}

// beamSide is the raw level of one beam and the blocked time of its
// current block, for the block's onset.
type beamSide struct {
	raw   bool
	rawT  int64 // when the raw level began
	mass  int64 // blocked ms of the current block, in finished pieces
	onset int64 // see onsetMs; -1 until the block has been blocked that long
}

// add counts the blocked piece [s, e) into the current block.
func (b *beamSide) add(s, e int64) {
	if b.onset < 0 && b.mass+e-s >= onsetMs {
		b.onset = s - b.mass
	}
	b.mass += e - s
}

func newBeam(spec sensor.Spec, index int, p values) (Detector, error) {
	return &beam{
		k:           tracker{sensor: index, passerby: spec.Role == sensor.RolePasserby, maxGap: p.get("max_gap_ms"), skew: p.get("skew_ms"), taint: true},
		debounce:    p.get("debounce_ms"),
		release:     max(p.get("debounce_ms"), p.get("bridge_ms")),
		minBlock:    p.get("min_block_ms"),
		maxPresence: p.get("max_presence_ms"),
		h:           Health{Learned: true, LastTMs: -1},
	}, nil
}

func (d *beam) Health() Health { return d.h }

// hold is how long beam ch's pending change must hold to count: a block
// debounce, a clear release (so gaps inside one body are bridged).
func (d *beam) hold(ch int) int64 {
	if d.l[ch].level {
		return d.release
	}
	return d.debounce
}

// settle confirms, in order of when they happened, the changes that have
// held until t. A block that ends shorter than minBlock is dropped.
func (d *beam) settle(t int64, out []sensor.Event) []sensor.Event {
	for {
		ch := -1
		for i := range d.l {
			if d.l[i].due(t, d.hold(i)) && (ch < 0 || d.l[i].pendT < d.l[ch].pendT) {
				ch = i
			}
		}
		if ch < 0 {
			break
		}
		l, s := &d.l[ch], &d.s[ch]
		began := l.since
		l.commit()
		switch {
		case l.level:
			d.k.begin(ch, l.since)
			s.mass, s.onset = 0, -1
		case l.since-began < d.minBlock:
			d.k.cancel(ch) // a hand or an arm ahead of or beside the body
		default:
			if s.onset >= 0 && d.k.active[ch] {
				d.k.start[ch] = s.onset
			}
			out = d.k.end(ch, l.since, l.since+d.release, 1<<30, 0, true, out)
		}
	}
	for ch := range d.l {
		if d.l[ch].level && d.k.active[ch] && t-d.l[ch].since > d.maxPresence {
			d.k.cancel(ch) // obstructed, not a person walking through
		}
	}
	return out
}

func (d *beam) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel != 0 && r.Channel != 1 {
		return out
	}
	d.h.Readings++
	d.h.LastTMs = r.TMs
	out = d.settle(r.TMs, out)
	v, s := r.Value != 0, &d.s[r.Channel]
	if v != s.raw {
		if s.raw && d.l[r.Channel].level {
			s.add(max(s.rawT, d.l[r.Channel].since), r.TMs)
		}
		s.raw, s.rawT = v, r.TMs
	}
	d.l[r.Channel].set(v, r.TMs)
	return out
}

func (d *beam) Flush(tMs int64, out []sensor.Event) []sensor.Event { return d.settle(tMs, out) }
