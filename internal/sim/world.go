package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Line is what the sensed line is in the store; it decides what a crossing
// counts as in the ground truth.
type Line uint8

// Kinds of sensed line.
const (
	Door       Line = iota // shop door: z0/a street side, z1/b store side; crossings are entries/exits
	Storefront             // path along the shop window: a crossing either way is a passer-by
)

// Behaviour is what one person does at the line.
type Behaviour uint8

// Behaviours.
const (
	Cross       Behaviour = iota // walks across (in, out, or past)
	UTurn                        // steps into the sensed area and leaves back the same side
	LingerCross                  // stands under the sensor for seconds, then goes on
	LingerBack                   // stands under the sensor for seconds, then goes back
)

func (b Behaviour) String() string {
	switch b {
	case Cross:
		return "cross"
	case UTurn:
		return "u-turn"
	case LingerCross:
		return "linger-cross"
	case LingerBack:
		return "linger-back"
	}
	return fmt.Sprintf("behaviour(%d)", b)
}

// Geometry of the model, in mm along the walking axis x (x grows from the
// street side to the store side; the sensor/beams are centred on x = 0).
const (
	startMM      = 1500  // people appear/disappear this far from the line
	regionMM     = 700   // everything any sensor sees lies within |x| <= regionMM
	truthMM      = 500   // a crossing is complete when the person is this far past the line
	tofHalfFoV   = 0.240 // tan(13.5°): half of the VL53L1X 27° field of view
	tofMinCover  = 0.20  // share of a zone a target must fill to dominate its histogram
	personDepth  = 300   // body depth along x at shoulder height (adult)
	minGapMM     = 450   // people walking single file keep at least this clear distance
	flickMinMs   = 20
	flickMaxMs   = 70
	maxFlicksPer = 3
)

// Config is one simulated scenario. Zero values are replaced by the defaults
// of DefaultConfig where noted.
type Config struct {
	Name       string
	Seed       uint64
	DurationMs int64
	Line       Line

	ArrivalsPerMin float64 // parties (a person or a group) per minute, Poisson
	PForward       float64 // share of parties moving z0 -> z1 (in / eastward)
	PUTurn         float64 // behaviour shares; the rest cross
	PLingerCross   float64
	PLingerBack    float64
	PGroup         float64 // share of parties that are a group walking single file
	GroupMax       int     // largest group (>= 2)
	GapMinMs       int     // clear time between group members at the line
	GapMaxMs       int
	PFast          float64 // runners 2.5-3.5 m/s
	PSlow          float64 // slow walkers 0.4-0.7 m/s (others 1.0-1.6 m/s)
	PChild         float64 // children 0.9-1.3 m (adults 1.5-1.95 m)
	PFlicker       float64 // people whose arm swing flickers the neighbouring zone/beam

	MountMM        int     // ceiling height of the ToF sensor above the floor
	NoiseMM        float64 // ToF range noise, standard deviation
	PInvalidEmpty  float64 // ToF: chance a reading of an empty zone is invalid (-1)
	PInvalidPerson float64 // ToF: chance a reading with a person under it is invalid
	PGlitch        float64 // ToF: chance a reading is a spurious distance
	ToFPeriodMs    int     // one ranging (one zone) every this many ms; zones alternate

	BeamSpacingMM    int     // distance between beam a and beam b
	BeamHeightMM     int     // height of the beams above the floor
	BeamGlitchPerMin float64 // spurious 1-5 ms toggles per beam and minute

	PulseWidthMs      int     // commercial counter's output pulse width
	PBounce           float64 // chance of contact bounce at each pulse edge
	PulseGlitchPerMin float64 // spurious 1-3 ms spikes per line and minute

	// Real-doorway effects (doorway.go); zero values leave them out.
	SpeedMinMMs, SpeedMaxMMs int     // walkers' speed range (0: 1000..1600 mm/s)
	DepthMinMM, DepthMaxMM   int     // adults' body depth at beam height (0: 260 mm)
	PInteriorGaps            float64 // share of beam blocks that clear 1-3 times inside (6-40 ms)
	PLeadFlicker             float64 // share of people whose hand cuts the beams 40-120 ms before the body
	PTailgate                float64 // share of parties that are two people 0-60 mm apart, single file
	PSideBySide              float64 // share of parties that are two people abreast

	// Visits, when not empty, replaces the random arrivals: exactly these
	// people come, in this order (tests of one behaviour).
	Visits []Visit
}

// DefaultConfig is a moderately busy shop door with clean sensors.
func DefaultConfig() Config {
	return Config{
		Name: "default", Seed: 1, DurationMs: 3600_000, Line: Door,
		ArrivalsPerMin: 4, PForward: 0.5,
		GroupMax: 3, GapMinMs: 300, GapMaxMs: 1000,
		MountMM: 2600, NoiseMM: 10, PInvalidEmpty: 0.002, PInvalidPerson: 0.01, PGlitch: 0.001,
		ToFPeriodMs:   25,
		BeamSpacingMM: 60, BeamHeightMM: 700, BeamGlitchPerMin: 0.5,
		PulseWidthMs: 100, PBounce: 0.2, PulseGlitchPerMin: 0.2,
	}
}

// Validate reports a configuration the model cannot run.
func (c Config) Validate() error {
	k := configCheck{"sim config", c.Name}
	bad := k.bad
	switch {
	case c.DurationMs <= 0:
		return bad("DurationMs", c.DurationMs, "want > 0")
	case c.Line != Door && c.Line != Storefront:
		return bad("Line", c.Line, "want Door or Storefront")
	case !(c.ArrivalsPerMin >= 0 && c.ArrivalsPerMin <= 600):
		return bad("ArrivalsPerMin", c.ArrivalsPerMin, "want 0..600")
	case c.GroupMax < 2 && c.PGroup > 0:
		return bad("GroupMax", c.GroupMax, "want >= 2 when PGroup > 0")
	case c.GapMinMs < 0 || c.GapMaxMs < c.GapMinMs:
		return bad("GapMinMs..GapMaxMs", fmt.Sprint(c.GapMinMs, "..", c.GapMaxMs), "want 0 <= min <= max")
	case c.MountMM < 2000 || c.MountMM > 4000:
		return bad("MountMM", c.MountMM, "want 2000..4000")
	case c.NoiseMM < 0 || c.NoiseMM > 500:
		return bad("NoiseMM", c.NoiseMM, "want 0..500")
	case c.ToFPeriodMs < 5 || c.ToFPeriodMs > 200:
		return bad("ToFPeriodMs", c.ToFPeriodMs, "want 5..200")
	case c.BeamSpacingMM < 10 || c.BeamSpacingMM > 300:
		return bad("BeamSpacingMM", c.BeamSpacingMM, "want 10..300")
	case c.BeamHeightMM < 300 || c.BeamHeightMM > 850:
		return bad("BeamHeightMM", c.BeamHeightMM, "want 300..850 (children must block it)")
	case c.PulseWidthMs < 10 || c.PulseWidthMs > 2000:
		return bad("PulseWidthMs", c.PulseWidthMs, "want 10..2000")
	case c.BeamGlitchPerMin < 0 || c.PulseGlitchPerMin < 0:
		return bad("glitch rate", c.BeamGlitchPerMin, "want >= 0")
	}
	if err := k.probabilities(field{"PForward", c.PForward}, field{"PUTurn", c.PUTurn}, field{"PLingerCross", c.PLingerCross},
		field{"PLingerBack", c.PLingerBack}, field{"PGroup", c.PGroup}, field{"PFast", c.PFast}, field{"PSlow", c.PSlow},
		field{"PChild", c.PChild}, field{"PFlicker", c.PFlicker}, field{"PInvalidEmpty", c.PInvalidEmpty},
		field{"PInvalidPerson", c.PInvalidPerson}, field{"PGlitch", c.PGlitch}, field{"PBounce", c.PBounce}); err != nil {
		return err
	}
	if err := c.validateDoorway(k); err != nil {
		return err
	}
	if s := c.PUTurn + c.PLingerCross + c.PLingerBack; s > 1 {
		return bad("PUTurn+PLingerCross+PLingerBack", s, "want <= 1")
	}
	if c.PFast+c.PSlow > 1 {
		return bad("PFast+PSlow", c.PFast+c.PSlow, "want <= 1")
	}
	for i, v := range c.Visits {
		f := func(name string) string { return fmt.Sprintf("Visits[%d].%s", i, name) }
		switch {
		case v.AtMs < 0:
			return bad(f("AtMs"), v.AtMs, "want >= 0")
		case v.Dir < -1 || v.Dir > 1:
			return bad(f("Dir"), v.Dir, "want +1, -1 (or 0 for +1)")
		case v.Behaviour > LingerBack:
			return bad(f("Behaviour"), v.Behaviour, "want Cross, UTurn, LingerCross or LingerBack")
		case v.HeightMM != 0 && (v.HeightMM < 800 || v.HeightMM > 2200):
			return bad(f("HeightMM"), v.HeightMM, "want 800..2200")
		case v.SpeedMMs != 0 && (v.SpeedMMs < 200 || v.SpeedMMs > 6000):
			return bad(f("SpeedMMs"), v.SpeedMMs, "want 200..6000")
		case v.TurnMM < -1000 || v.TurnMM > 150:
			return bad(f("TurnMM"), v.TurnMM, "want -1000..150 (further is a crossing)")
		case v.StayMs < 0 || v.StayMs > 600000:
			return bad(f("StayMs"), v.StayMs, "want 0..600000")
		}
	}
	return nil
}

// Visit scripts one person. Zero fields are drawn as for random people.
type Visit struct {
	AtMs      int64 // when the person starts walking, 1.5 m before the line
	Dir       int   // +1 z0 -> z1 (in), -1 z1 -> z0 (out); 0 means +1
	Behaviour Behaviour
	HeightMM  int
	SpeedMMs  int
	TurnMM    int   // UTurn: how far past the line (negative: before it) the person steps
	StayMs    int64 // LingerCross/LingerBack: how long the person stands
	Flicker   bool
}

// Person is one simulated person. Positions are kept in the person's own
// forward frame u (u grows in its walking direction); world x = Dir*u.
type Person struct {
	Dir       int // +1: z0 -> z1 (street -> store), -1: the reverse
	Behaviour Behaviour
	HeightMM  int
	SpeedMMs  int // walking speed
	Child     bool
	Flicker   bool
	// Follows is true for the second of a tailgating or side-by-side pair:
	// on the line this person merges with the one ahead (see Separable).
	Follows bool

	kt, ku   []float64 // keyframes: time (ms) and u (mm), piecewise linear
	tIn      int64     // first ms the person is within regionMM of the line
	tOut     int64     // last ms
	crossMs  int64     // when the crossing is complete; -1 if it counts nothing
	hipHalf  float64   // half body depth at beam height
	headHalf float64
	shHalf   float64
}

// CrossMs is when the person's crossing is complete, or -1 for a person who
// counts nothing (U-turn, lingerer who goes back).
func (p *Person) CrossMs() int64 { return p.crossMs }

// u returns the forward-frame position at t (clamped to the ends).
func (p *Person) u(t float64) float64 {
	kt, ku := p.kt, p.ku
	if t <= kt[0] {
		return ku[0]
	}
	for i := 1; i < len(kt); i++ {
		if t <= kt[i] {
			if kt[i] == kt[i-1] {
				return ku[i]
			}
			return ku[i-1] + (ku[i]-ku[i-1])*(t-kt[i-1])/(kt[i]-kt[i-1])
		}
	}
	return ku[len(ku)-1]
}

// x returns the world position at t.
func (p *Person) x(t float64) float64 { return float64(p.Dir) * p.u(t) }

// spans returns the time intervals during which u lies in [lo, hi].
func (p *Person) spans(lo, hi float64, dst []interval) []interval {
	for i := 1; i < len(p.kt); i++ {
		t0, t1, u0, u1 := p.kt[i-1], p.kt[i], p.ku[i-1], p.ku[i]
		var a, b float64
		if u0 == u1 {
			if u0 < lo || u0 > hi {
				continue
			}
			a, b = t0, t1
		} else {
			// times at which u crosses lo and hi on this segment
			ta := t0 + (lo-u0)*(t1-t0)/(u1-u0)
			tb := t0 + (hi-u0)*(t1-t0)/(u1-u0)
			if ta > tb {
				ta, tb = tb, ta
			}
			a, b = math.Max(ta, t0), math.Min(tb, t1)
			if a > b {
				continue
			}
		}
		s, e := int64(math.Round(a)), int64(math.Round(b))
		if n := len(dst); n > 0 && s <= dst[n-1].end {
			if e > dst[n-1].end {
				dst[n-1].end = e
			}
			continue
		}
		if e > s {
			dst = append(dst, interval{s, e})
		}
	}
	return dst
}

// interval is [start, end) in ms.
type interval struct{ start, end int64 }

type tofFlick struct {
	interval
	distMM int
}

// World is one deterministic simulated line: who crosses when, and what each
// sensor physically sees at any instant. All its query methods are pure
// functions of their arguments, safe for concurrent use.
type World struct {
	cfg     Config
	people  []*Person // by tIn
	maxSpan int64
	beams   [2][]interval // blocked intervals of beam a, b (glitches applied)
	pulses  [3][]interval // active intervals of lines in, out, pass
	flicks  [2][]tofFlick // arm hits seen by ToF zone z0, z1
	cross   []crossing    // by time
}

type crossing struct {
	t       int64
	dir     int
	follows bool // merges with the crossing ahead (Person.Follows)
}

// New builds the world of cfg: it draws every person from cfg.Seed. The same
// Config always gives the same world.
func New(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &World{cfg: cfg}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed0f5eed))
	w.populate(rng)
	w.buildBeams(rng)
	w.buildPulses(rng)
	return w, nil
}

// Config returns the configuration the world was built from.
func (w *World) Config() Config { return w.cfg }

// People returns the simulated people, ordered by when they reach the line.
func (w *World) People() []*Person { return w.people }

func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

func (w *World) populate(rng *rand.Rand) {
	c := w.cfg
	var sched []*Person
	if len(c.Visits) > 0 {
		for _, v := range c.Visits {
			p := w.scripted(rng, v)
			w.place(p, float64(v.AtMs), 400, sched)
			sched = append(sched, p)
		}
		w.index(rng, sched)
		return
	}
	if c.ArrivalsPerMin == 0 {
		return
	}
	meanGap := 60000 / c.ArrivalsPerMin
	t := rng.ExpFloat64() * meanGap
	for t < float64(c.DurationMs) {
		dir := -1
		if rng.Float64() < c.PForward {
			dir = 1
		}
		if w.pair(rng, dir, t, &sched) {
			t += rng.ExpFloat64() * meanGap
			continue
		}
		n := 1
		if rng.Float64() < c.PGroup {
			n = 2 + rng.IntN(c.GroupMax-1)
		}
		for k := 0; k < n; k++ {
			p := w.newPerson(rng, dir)
			gapMs := 400.0
			if k > 0 {
				gapMs = uniform(rng, float64(c.GapMinMs), float64(c.GapMaxMs))
			}
			w.place(p, t, gapMs, sched)
			sched = append(sched, p)
		}
		t += rng.ExpFloat64() * meanGap
	}
	w.index(rng, sched)
}

// index keeps the people who are gone before the end, in order, with the
// crossings they complete and their arm-swing hits.
func (w *World) index(rng *rand.Rand, sched []*Person) {
	c := w.cfg
	for _, p := range sched {
		if p.tOut < c.DurationMs {
			w.people = append(w.people, p)
		}
	}
	sort.SliceStable(w.people, func(i, j int) bool { return w.people[i].tIn < w.people[j].tIn })
	for _, p := range w.people {
		if d := p.tOut - p.tIn; d > w.maxSpan {
			w.maxSpan = d
		}
		if p.crossMs >= 0 {
			w.cross = append(w.cross, crossing{p.crossMs, p.Dir, p.Follows})
		}
	}
	sort.Slice(w.cross, func(i, j int) bool { return w.cross[i].t < w.cross[j].t })
	for _, p := range w.people {
		if p.Flicker {
			w.addFlicks(rng, p)
		}
	}
	for z := range w.flicks {
		sort.Slice(w.flicks[z], func(i, j int) bool { return w.flicks[z][i].start < w.flicks[z][j].start })
	}
}

// newPerson draws one person's body and behaviour; its keyframes start at
// t = 0 and are shifted by place.
func (w *World) newPerson(rng *rand.Rand, dir int) *Person {
	return w.scripted(rng, w.drawVisit(rng, dir))
}

// drawVisit draws one random person's visit.
func (w *World) drawVisit(rng *rand.Rand, dir int) Visit {
	c := w.cfg
	v := Visit{Dir: dir}
	r := rng.Float64()
	switch {
	case r < c.PUTurn:
		v.Behaviour = UTurn
	case r < c.PUTurn+c.PLingerCross:
		v.Behaviour = LingerCross
	case r < c.PUTurn+c.PLingerCross+c.PLingerBack:
		v.Behaviour = LingerBack
	}
	if rng.Float64() < c.PChild {
		v.HeightMM = int(uniform(rng, 900, 1300))
	} else {
		v.HeightMM = int(uniform(rng, 1500, 1950))
	}
	r = rng.Float64()
	switch {
	case r < c.PFast:
		v.SpeedMMs = int(uniform(rng, 2500, 3500))
	case r < c.PFast+c.PSlow:
		v.SpeedMMs = int(uniform(rng, 400, 700))
	default:
		v.SpeedMMs = int(uniform(rng, c.walkMin(), c.walkMax()))
	}
	v.Flicker = rng.Float64() < c.PFlicker
	return v
}

// scripted builds the person of v; fields left zero are drawn.
func (w *World) scripted(rng *rand.Rand, vis Visit) *Person {
	p := &Person{Dir: vis.Dir, Behaviour: vis.Behaviour, HeightMM: vis.HeightMM, SpeedMMs: vis.SpeedMMs, Flicker: vis.Flicker}
	if p.Dir == 0 {
		p.Dir = 1
	}
	if p.HeightMM == 0 {
		p.HeightMM = int(uniform(rng, 1500, 1950))
	}
	if p.SpeedMMs == 0 {
		p.SpeedMMs = int(uniform(rng, w.cfg.walkMin(), w.cfg.walkMax()))
	}
	if p.HeightMM < 1400 {
		p.Child = true
		p.headHalf, p.shHalf, p.hipHalf = 80, 110, 90
	} else {
		p.headHalf, p.shHalf, p.hipHalf = 100, personDepth/2, 130
		if c := w.cfg; c.DepthMinMM > 0 {
			p.hipHalf = uniform(rng, float64(c.DepthMinMM), float64(c.DepthMaxMM)) / 2
		}
	}
	v := float64(p.SpeedMMs) / 1000 // mm per ms
	walk := func(to float64) {
		last := p.ku[len(p.ku)-1]
		p.kt = append(p.kt, p.kt[len(p.kt)-1]+math.Abs(to-last)/v)
		p.ku = append(p.ku, to)
	}
	stay := func(ms float64) {
		p.kt = append(p.kt, p.kt[len(p.kt)-1]+ms)
		p.ku = append(p.ku, p.ku[len(p.ku)-1])
	}
	p.kt, p.ku = []float64{0}, []float64{-startMM}
	switch p.Behaviour {
	case Cross:
		walk(startMM)
	case UTurn:
		turn := uniform(rng, -350, 60)
		if vis.TurnMM != 0 {
			turn = float64(vis.TurnMM)
		}
		walk(turn)
		stay(uniform(rng, 0, 500))
		walk(-startMM)
	case LingerCross, LingerBack:
		stop := uniform(rng, -60, 60)
		walk(stop)
		// stands 2-12 s, swaying a little (people shift their weight)
		stayMs := uniform(rng, 2000, 12000)
		if vis.StayMs > 0 {
			stayMs = float64(vis.StayMs)
		}
		end := p.kt[len(p.kt)-1] + stayMs
		for k := 0; p.kt[len(p.kt)-1] < end; k++ {
			p.kt = append(p.kt, p.kt[len(p.kt)-1]+uniform(rng, 400, 900))
			p.ku = append(p.ku, stop+uniform(rng, -25, 25))
		}
		if p.Behaviour == LingerCross {
			walk(startMM)
		} else {
			walk(-startMM)
		}
	}
	return p
}

// firstAt returns the first time the person's u reaches u0 going forward,
// or -1 if it never does.
func (p *Person) firstAt(u0 float64) float64 {
	for i := 1; i < len(p.kt); i++ {
		a, b := p.ku[i-1], p.ku[i]
		if a < u0 && b >= u0 {
			return p.kt[i-1] + (p.kt[i]-p.kt[i-1])*(u0-a)/(b-a)
		}
	}
	return -1
}

// walkAt is when a straight walker is (or would be, extending its line) at u0.
func (p *Person) walkAt(u0 float64) float64 {
	return p.kt[0] + (u0-p.ku[0])*1000/float64(p.SpeedMMs)
}

func (p *Person) shift(d float64) {
	for i := range p.kt {
		p.kt[i] += d
	}
	p.finish()
}

func (p *Person) finish() {
	sp := p.spans(-regionMM, regionMM, nil)
	p.tIn, p.tOut = sp[0].start, sp[len(sp)-1].end
	p.crossMs = -1
	if p.Behaviour == Cross || p.Behaviour == LingerCross {
		p.crossMs = int64(math.Round(p.firstAt(truthMM)))
	}
}

// simple reports whether p walks straight through at constant speed.
func (p *Person) simple() bool { return p.Behaviour == Cross }

// place shifts p, arriving at t, to keep the doorway physical: people going
// the same way keep a clear gap (single file); anyone meeting an opposite
// flow, a U-turner or a lingerer waits until the doorway is free.
func (w *World) place(p *Person, t, gapMs float64, sched []*Person) {
	p.shift(t)
	v := float64(p.SpeedMMs) / 1000
	gapMM := math.Max(gapMs*v, minGapMM)
	from := len(sched) - 16
	if from < 0 {
		from = 0
	}
	for iter := 0; iter < 50; iter++ {
		need := 0.0
		for _, q := range sched[from:] {
			if q.Dir == p.Dir && q.simple() && p.simple() {
				// at the region's entry: q far enough ahead when p arrives
				need = math.Max(need, q.walkAt(-regionMM+personDepth+gapMM)-p.walkAt(-regionMM))
				// at the region's exit: p far enough behind when q leaves
				need = math.Max(need, q.walkAt(regionMM)-p.walkAt(regionMM-personDepth-gapMM))
			} else {
				need = math.Max(need, float64(q.tOut+300-p.tIn))
			}
		}
		if need <= 0 {
			return
		}
		p.shift(need)
	}
}

func (w *World) addFlicks(rng *rand.Rand, p *Person) {
	c := w.cfg
	H := float64(c.MountMM)
	n := 1 + rng.IntN(maxFlicksPer)
	for k := 0; k < n; k++ {
		t := uniform(rng, float64(p.tIn), float64(p.tOut))
		dur := int64(uniform(rng, flickMinMs, flickMaxMs))
		iv := interval{int64(t), int64(t) + dur}
		// ToF: the hand shows in the neighbouring zone while the body is seen in one zone only
		_, in0 := p.zoneDist(0, p.x(t), H)
		_, in1 := p.zoneDist(1, p.x(t), H)
		hand := int(H - 0.48*float64(p.HeightMM))
		switch {
		case in0 && !in1:
			w.flicks[1] = append(w.flicks[1], tofFlick{iv, hand})
		case in1 && !in0:
			w.flicks[0] = append(w.flicks[0], tofFlick{iv, hand})
		}
	}
}

// zoneDist is the distance zone z would report for p alone at world position
// x: the nearest body part that fills enough of the zone's cone at its height.
func (p *Person) zoneDist(z int, x, H float64) (float64, bool) {
	h := float64(p.HeightMM)
	parts := [2][2]float64{{h, p.headHalf}, {0.82 * h, p.shHalf}}
	for _, part := range parts {
		D := H - part[0]
		width := tofHalfFoV * D
		lo, hi := -width, 0.0
		if z == 1 {
			lo, hi = 0, width
		}
		ov := math.Min(hi, x+part[1]) - math.Max(lo, x-part[1])
		if ov >= tofMinCover*width {
			return D, true
		}
	}
	return 0, false
}

// active calls f for each person within the sensed region at t.
func (w *World) active(t int64, f func(p *Person)) {
	i := sort.Search(len(w.people), func(i int) bool { return w.people[i].tIn > t })
	for i--; i >= 0 && w.people[i].tIn >= t-w.maxSpan; i-- {
		if p := w.people[i]; t <= p.tOut {
			f(p)
		}
	}
}

// u01 and gauss are the world's noise on channel ch (a ToF zone).
func (w *World) u01(tag uint64, ch int, t int64) float64 {
	return hashU01(w.cfg.Seed, tag<<8|uint64(ch), t)
}

// gauss steps the tag: key (tag+k)<<8|ch is key + k<<8 for channels < 256.
func (w *World) gauss(tag uint64, ch int, t int64) float64 {
	return hashGauss(w.cfg.Seed, tag<<8|uint64(ch), 1<<8, t)
}

const (
	tagGlitch = iota * 16
	tagGlitchVal
	tagInvalid
	tagNoise
)

// ZoneDistance is what ToF zone z (0 street side, 1 store side) ranges at
// tMs, in mm: the floor when nobody is under it, the nearest head/shoulders
// otherwise, -1 when the range is not valid.
func (w *World) ZoneDistance(zone int, tMs int64) int {
	if zone != 0 && zone != 1 {
		return -1
	}
	c := w.cfg
	H := float64(c.MountMM)
	if w.u01(tagGlitch, zone, tMs) < c.PGlitch {
		return int(200 + (H-400)*w.u01(tagGlitchVal, zone, tMs))
	}
	d, present := H, false
	w.active(tMs, func(p *Person) {
		if pd, ok := p.zoneDist(zone, p.x(float64(tMs)), H); ok && pd < d {
			d, present = pd, true
		}
	})
	fl := w.flicks[zone]
	i := sort.Search(len(fl), func(i int) bool { return fl[i].start > tMs })
	for i--; i >= 0 && fl[i].start > tMs-flickMaxMs; i-- {
		if tMs < fl[i].end && float64(fl[i].distMM) < d {
			d, present = float64(fl[i].distMM), true
		}
	}
	pInv := c.PInvalidEmpty
	if present {
		pInv = c.PInvalidPerson
	}
	if w.u01(tagInvalid, zone, tMs) < pInv {
		return -1
	}
	d += c.NoiseMM * w.gauss(tagNoise, zone, tMs)
	if d < 40 {
		d = 40
	}
	return int(math.Round(d))
}

// BeamBlocked reports whether IR beam b (0 = a, street side; 1 = b, store
// side) is interrupted at tMs.
func (w *World) BeamBlocked(beam int, tMs int64) bool {
	if beam != 0 && beam != 1 {
		return false
	}
	return inIntervals(w.beams[beam], tMs)
}

// PulseActive reports whether the commercial counter's output line is active
// at tMs: line 0 = in, 1 = out, 2 = pass (the channels of kind pulse).
func (w *World) PulseActive(line int, tMs int64) bool {
	if line < 0 || line > 2 {
		return false
	}
	return inIntervals(w.pulses[line], tMs)
}

func inIntervals(iv []interval, t int64) bool {
	i := sort.Search(len(iv), func(i int) bool { return iv[i].start > t })
	return i > 0 && t < iv[i-1].end
}

// Truth is the ground truth over a time range.
type Truth struct {
	Entries   int // door: crossings z0 -> z1
	Exits     int // door: crossings z1 -> z0
	Passersby int // storefront: crossings either way
}

// Truth counts the crossings completed in [fromMs, toMs). U-turners and
// lingerers who go back count nothing.
func (w *World) Truth(fromMs, toMs int64) Truth { return w.truth(fromMs, toMs, false) }

// truth counts the crossings completed in [fromMs, toMs), leaving out those
// that follow another (Person.Follows) when separable.
func (w *World) truth(fromMs, toMs int64, separable bool) Truth {
	var tr Truth
	i := sort.Search(len(w.cross), func(i int) bool { return w.cross[i].t >= fromMs })
	for ; i < len(w.cross) && w.cross[i].t < toMs; i++ {
		switch {
		case separable && w.cross[i].follows:
		case w.cfg.Line == Storefront:
			tr.Passersby++
		case w.cross[i].dir > 0:
			tr.Entries++
		default:
			tr.Exits++
		}
	}
	return tr
}

func (w *World) buildBeams(rng *rand.Rand) {
	c := w.cfg
	xs := [2]float64{-float64(c.BeamSpacingMM) / 2, float64(c.BeamSpacingMM) / 2}
	var body [2][]interval
	for _, p := range w.people {
		if p.HeightMM < c.BeamHeightMM+150 {
			continue // passes under the beams
		}
		var first [2]int64 // when the body first blocks each beam, -1: never
		for b, xb := range xs {
			ub := float64(p.Dir) * xb // beam position in the person's frame
			sp := p.spans(ub-p.hipHalf, ub+p.hipHalf, nil)
			first[b] = -1
			if len(sp) > 0 {
				first[b] = sp[0].start
			}
			body[b] = append(body[b], w.interiorGaps(rng, sp)...)
		}
		w.leadFlicker(rng, p, first, &body)
		if !p.Flicker {
			continue
		}
		// Arm swing: a hand briefly cuts the neighbouring beam while the
		// body cuts one beam only, or the nearer beam as the person comes/goes.
		n := 1 + rng.IntN(maxFlicksPer)
		for k := 0; k < n; k++ {
			t := uniform(rng, float64(p.tIn), float64(p.tOut))
			x := p.x(t)
			in := [2]bool{math.Abs(x-xs[0]) <= p.hipHalf, math.Abs(x-xs[1]) <= p.hipHalf}
			b := -1
			switch {
			case in[0] && !in[1]:
				b = 1
			case in[1] && !in[0]:
				b = 0
			case !in[0] && !in[1] && math.Abs(x) < p.hipHalf+300:
				b = 0
				if x > 0 {
					b = 1
				}
			}
			if b >= 0 {
				s := int64(t)
				body[b] = append(body[b], interval{s, s + int64(uniform(rng, flickMinMs, flickMaxMs))})
			}
		}
	}
	for b := range body {
		g := glitches(rng, c.BeamGlitchPerMin, c.DurationMs, 1, 5)
		w.beams[b] = xorIntervals(merge(body[b]), g)
	}
}

// glitches draws Poisson spurious toggles of minMs..maxMs.
func glitches(rng *rand.Rand, perMin float64, durMs int64, minMs, maxMs int) []interval {
	var g []interval
	if perMin <= 0 {
		return nil
	}
	mean := 60000 / perMin
	for t := rng.ExpFloat64() * mean; t < float64(durMs); t += rng.ExpFloat64() * mean {
		s := int64(t)
		g = append(g, interval{s, s + int64(minMs+rng.IntN(maxMs-minMs+1))})
	}
	return merge(g)
}

// merge sorts and unites intervals.
func merge(iv []interval) []interval {
	sort.Slice(iv, func(i, j int) bool { return iv[i].start < iv[j].start })
	out := iv[:0]
	for _, x := range iv {
		if x.end <= x.start {
			continue
		}
		if n := len(out); n > 0 && x.start <= out[n-1].end {
			if x.end > out[n-1].end {
				out[n-1].end = x.end
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// xorIntervals returns where exactly one of the sorted, disjoint sets a and
// b holds: a glitch inverts the level it falls on.
func xorIntervals(a, b []interval) []interval {
	var pts []int64
	for _, x := range a {
		pts = append(pts, x.start, x.end)
	}
	for _, x := range b {
		pts = append(pts, x.start, x.end)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i] < pts[j] })
	var out []interval
	for i := 0; i+1 < len(pts); i++ {
		s, e := pts[i], pts[i+1]
		if s == e {
			continue
		}
		if inIntervals(a, s) != inIntervals(b, s) {
			if n := len(out); n > 0 && out[n-1].end == s {
				out[n-1].end = e
			} else {
				out = append(out, interval{s, e})
			}
		}
	}
	return out
}

// buildPulses models a commercial counter: one output pulse per completed
// crossing on its line, queued when crossings come faster than pulses, with
// contact bounce at the edges and rare spurious spikes.
func (w *World) buildPulses(rng *rand.Rand) {
	c := w.cfg
	var lines [3][]interval
	var free [3]int64
	for _, x := range w.cross {
		l := 2
		if c.Line == Door {
			l = 0
			if x.dir < 0 {
				l = 1
			}
		}
		s := x.t + int64(50+rng.IntN(100))
		if s < free[l] {
			s = free[l]
		}
		e := s + int64(c.PulseWidthMs) + int64(rng.IntN(c.PulseWidthMs/5+1))
		lines[l] = append(lines[l], interval{s, e})
		bounce := func(at int64, before bool) {
			for k := 0; k < 1+rng.IntN(3); k++ {
				d := int64(2 + 3*k)
				if before {
					lines[l] = append(lines[l], interval{at - d - 1, at - d})
				} else {
					lines[l] = append(lines[l], interval{at + d, at + d + 1})
				}
			}
		}
		if rng.Float64() < c.PBounce {
			bounce(s, true)
		}
		if rng.Float64() < c.PBounce {
			bounce(e, false)
		}
		free[l] = e + 60
	}
	for l := range lines {
		g := glitches(rng, c.PulseGlitchPerMin, c.DurationMs, 1, 3)
		w.pulses[l] = xorIntervals(merge(lines[l]), g)
	}
}
