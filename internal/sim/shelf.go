package sim

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// ShelfConfig is one simulated aisle in front of a shelf, watched by a
// distance sensor on the shelf looking across the aisle (kind tof-presence)
// and a PIR motion sensor beside it (kind pir). Distances are from the
// sensor, in mm.
type ShelfConfig struct {
	Name       string
	Seed       uint64
	DurationMs int64
	DwellMinMs int64 // ground truth: a presence at least this long is a stop-by

	AisleMM        int // the far side of the aisle (the opposite shelf): the idle reading
	MaxRangeMM     int // the sensor's range: an aisle wider than this reads MaxRangeMM when idle
	SamplePeriodMs int // one ranging every this many ms

	// Shoppers who stop and browse. While the shelf is free the next one
	// comes after IdleMinMs plus an exponential wait of mean 60000/
	// BrowsersPerMin; browses last a lognormal time (median, sigma of ln),
	// drawn again outside [DwellLoMs, DwellHiMs].
	BrowsersPerMin         float64
	IdleMinMs              int64
	DwellMedianMs          float64
	DwellSigma             float64
	DwellLoMs, DwellHiMs   int64
	StandMinMM, StandMaxMM int     // where a browser stands
	PBackToBack            float64 // the next browser arrives 1-3 s after one leaves
	POverlap               float64 // a second browser joins one who is still there
	PoseShiftsPerMin       float64 // per browser: the sensor briefly (100-600 ms) sees past them
	StepBacksPerMin        float64 // per browser: steps back ~half a metre for 1-6 s, or reaches in
	SwayMM                 float64 // body sway, standard deviation

	// People who only walk past in the aisle: visible 0.3-1.2 s, a share
	// of them pause for 1.5-2.4 s (still less than a stop).
	PassersPerMin              float64
	PPause                     float64
	LaneMinMM, LaneMaxMM       int
	NoiseMM                    float64 // range noise, standard deviation
	PInvalid                   float64 // chance of an isolated invalid (-1) reading
	DropoutsPerMin             float64 // per browser: bursts of invalid readings (dark clothes, oblique surfaces)
	DropoutMinMs, DropoutMaxMs int64
	IdleDropoutsPerMin         float64 // bursts of invalid readings anywhere (ambient IR)
	PGlitch                    float64 // chance of a spurious short reading

	// PIR: an HC-SR501-like module. A browser moves now and then (gaps
	// exponential of mean MotionGapMs; a PStill share of browsers stands
	// still longer, mean StillGapMs); walking in, out and past is motion.
	PIRHoldMs, PIRBlockMs int64
	PIRRetrigger          bool
	MotionGapMs           float64
	PStill                float64
	StillGapMs            float64
	PIRFalsePerMin        float64 // spurious triggers (air draughts, heaters)
}

// DefaultShelfConfig is a fairly busy shelf with clean sensors.
func DefaultShelfConfig() ShelfConfig {
	return ShelfConfig{
		Name: "shelf-default", Seed: 1, DurationMs: 3600_000, DwellMinMs: sensor.DefaultDwellMinMs,
		AisleMM: 1800, MaxRangeMM: 4000, SamplePeriodMs: 100,
		BrowsersPerMin: 6, IdleMinMs: 4000, DwellMedianMs: 10000, DwellSigma: 0.8,
		DwellLoMs: 2000, DwellHiMs: 120000, StandMinMM: 350, StandMaxMM: 800,
		PoseShiftsPerMin: 1, StepBacksPerMin: 1, SwayMM: 20,
		PassersPerMin: 2, PPause: 0.1, LaneMinMM: 700, LaneMaxMM: 1500,
		NoiseMM: 10, PInvalid: 0.002, DropoutMinMs: 200, DropoutMaxMs: 1500, PGlitch: 0.001,
		PIRHoldMs: 3000, PIRBlockMs: 2500, PIRRetrigger: true,
		MotionGapMs: 1500, PStill: 0.2, StillGapMs: 5000, PIRFalsePerMin: 0.1,
	}
}

// Validate reports a configuration the model cannot run.
func (c ShelfConfig) Validate() error {
	k := configCheck{"sim shelf config", c.Name}
	bad := k.bad
	switch {
	case c.DurationMs <= 0:
		return bad("DurationMs", c.DurationMs, "want > 0")
	case c.DwellMinMs <= 0:
		return bad("DwellMinMs", c.DwellMinMs, "want > 0")
	case c.MaxRangeMM < 1000 || c.MaxRangeMM > 8000:
		return bad("MaxRangeMM", c.MaxRangeMM, "want 1000..8000")
	case c.AisleMM < 1000 || c.AisleMM > 10000:
		return bad("AisleMM", c.AisleMM, "want 1000..10000")
	case c.SamplePeriodMs < 10 || c.SamplePeriodMs > 500:
		return bad("SamplePeriodMs", c.SamplePeriodMs, "want 10..500")
	case !(c.BrowsersPerMin >= 0 && c.BrowsersPerMin <= 60):
		return bad("BrowsersPerMin", c.BrowsersPerMin, "want 0..60")
	case !(c.PassersPerMin >= 0 && c.PassersPerMin <= 120):
		return bad("PassersPerMin", c.PassersPerMin, "want 0..120")
	case c.IdleMinMs < 0:
		return bad("IdleMinMs", c.IdleMinMs, "want >= 0")
	case !(c.DwellMedianMs > 0) || !(c.DwellSigma >= 0 && c.DwellSigma <= 3):
		return bad("DwellMedianMs/DwellSigma", fmt.Sprint(c.DwellMedianMs, "/", c.DwellSigma), "want median > 0, sigma 0..3")
	case c.DwellLoMs < 100 || c.DwellHiMs < c.DwellLoMs+1000 || float64(c.DwellHiMs) < c.DwellMedianMs/4 || float64(c.DwellLoMs) > c.DwellMedianMs*4:
		return bad("DwellLoMs..DwellHiMs", fmt.Sprint(c.DwellLoMs, "..", c.DwellHiMs), "want 100 <= lo, lo+1000 <= hi, around DwellMedianMs")
	case c.StandMinMM < 100 || c.StandMaxMM < c.StandMinMM || c.StandMaxMM+600 > min(c.AisleMM, c.MaxRangeMM):
		return bad("StandMinMM..StandMaxMM", fmt.Sprint(c.StandMinMM, "..", c.StandMaxMM), "want 100 <= min <= max, max+600 within the aisle")
	case c.LaneMinMM < 100 || c.LaneMaxMM < c.LaneMinMM || c.LaneMaxMM >= min(c.AisleMM, c.MaxRangeMM):
		return bad("LaneMinMM..LaneMaxMM", fmt.Sprint(c.LaneMinMM, "..", c.LaneMaxMM), "want 100 <= min <= max < the aisle")
	case c.DropoutMinMs < 1 || c.DropoutMaxMs < c.DropoutMinMs:
		return bad("DropoutMinMs..DropoutMaxMs", fmt.Sprint(c.DropoutMinMs, "..", c.DropoutMaxMs), "want 1 <= min <= max")
	case c.NoiseMM < 0 || c.NoiseMM > 300 || c.SwayMM < 0 || c.SwayMM > 300:
		return bad("NoiseMM/SwayMM", fmt.Sprint(c.NoiseMM, "/", c.SwayMM), "want 0..300")
	case c.PIRHoldMs < 100 || c.PIRHoldMs > 600000 || c.PIRBlockMs < 0 || c.PIRBlockMs > 60000:
		return bad("PIRHoldMs/PIRBlockMs", fmt.Sprint(c.PIRHoldMs, "/", c.PIRBlockMs), "want hold 100..600000, block 0..60000")
	case !(c.MotionGapMs >= 100) || !(c.StillGapMs >= 100):
		return bad("MotionGapMs/StillGapMs", fmt.Sprint(c.MotionGapMs, "/", c.StillGapMs), "want >= 100")
	}
	if err := k.within(0, 120, "want 0..120 per minute", field{"PoseShiftsPerMin", c.PoseShiftsPerMin}, field{"StepBacksPerMin", c.StepBacksPerMin},
		field{"DropoutsPerMin", c.DropoutsPerMin}, field{"IdleDropoutsPerMin", c.IdleDropoutsPerMin}, field{"PIRFalsePerMin", c.PIRFalsePerMin}); err != nil {
		return err
	}
	if err := k.probabilities(field{"PBackToBack", c.PBackToBack}, field{"POverlap", c.POverlap}, field{"PPause", c.PPause},
		field{"PInvalid", c.PInvalid}, field{"PGlitch", c.PGlitch}, field{"PStill", c.PStill}); err != nil {
		return err
	}
	if c.PBackToBack+c.POverlap > 1 {
		return bad("PBackToBack+POverlap", c.PBackToBack+c.POverlap, "want <= 1")
	}
	return nil
}

// pose is a stretch of a browser's stay when the sensor sees them
// elsewhere: off > 0 steps back, < 0 reaches in; hidden: the sensor sees
// past them (turned sideways, leaning out of the beam).
type pose struct {
	interval
	offMM  int
	hidden bool
}

// Shopper is one person in the aisle in front of the shelf.
type Shopper struct {
	ArriveMs, LeaveMs int64 // in front of the sensor during [ArriveMs, LeaveMs)
	DistMM            int   // where they stand (browser) or walk (passer-by)
	Browser           bool  // stops to browse; false: walks past
	Overlap           bool  // joined another browser who was still there
	BackToBack        bool  // arrived 1-3 s after the previous browser left
	poses             []pose
}

// DwellMs is how long the shopper stayed in front of the sensor.
func (s *Shopper) DwellMs() int64 { return s.LeaveMs - s.ArriveMs }

// Shelf is one deterministic simulated aisle in front of a shelf. Its query
// methods are pure functions of their arguments, safe for concurrent use.
type Shelf struct {
	cfg      ShelfConfig
	people   []*Shopper // by ArriveMs
	maxSpan  int64
	dropouts []interval // invalid bursts, merged, sorted
	pir      []interval // PIR output high, sorted
	triggers []int64    // PIR element triggers, sorted (for tests of the module model)
}

// NewShelf builds the aisle of cfg; the same config gives the same aisle.
func NewShelf(cfg ShelfConfig) (*Shelf, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Shelf{cfg: cfg}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5e1f5e1f))
	var drop []interval
	var trig []int64
	s.populate(rng, &drop, &trig)
	for _, p := range s.people {
		s.maxSpan = max(s.maxSpan, p.LeaveMs-p.ArriveMs)
	}
	// Invalid bursts anywhere: idle or not, they must neither make nor split stops.
	for t := expGap(rng, cfg.IdleDropoutsPerMin); t < cfg.DurationMs; t += expGap(rng, cfg.IdleDropoutsPerMin) {
		drop = append(drop, interval{t, t + cfg.DropoutMinMs + rng.Int64N(cfg.DropoutMaxMs-cfg.DropoutMinMs+1)})
	}
	for t := expGap(rng, cfg.PIRFalsePerMin); t < cfg.DurationMs; t += expGap(rng, cfg.PIRFalsePerMin) {
		trig = append(trig, t)
	}
	s.dropouts = merge(drop)
	sort.Slice(trig, func(i, j int) bool { return trig[i] < trig[j] })
	s.triggers = trig
	s.pir = pirOutput(trig, cfg.PIRHoldMs, cfg.PIRBlockMs, cfg.PIRRetrigger)
	return s, nil
}

// expGap draws the wait to the next event of a Poisson process of perMin
// events a minute (never when perMin is 0).
func expGap(rng *rand.Rand, perMin float64) int64 {
	if perMin <= 0 {
		return math.MaxInt64 / 2
	}
	return 1 + int64(rng.ExpFloat64()*60000/perMin)
}

func (s *Shelf) populate(rng *rand.Rand, drop *[]interval, trig *[]int64) {
	c := s.cfg
	dwell := func() int64 {
		for {
			d := int64(c.DwellMedianMs * math.Exp(c.DwellSigma*rng.NormFloat64()))
			if d >= c.DwellLoMs && d <= c.DwellHiMs {
				return d
			}
		}
	}
	stand := func() int { return c.StandMinMM + rng.IntN(c.StandMaxMM-c.StandMinMM+1) }
	if c.BrowsersPerMin > 0 {
		t := c.IdleMinMs + expGap(rng, c.BrowsersPerMin)
		b2b := false
		for t < c.DurationMs {
			p := &Shopper{ArriveMs: t, LeaveMs: t + dwell(), DistMM: stand(), Browser: true, BackToBack: b2b}
			s.addBrowser(rng, p, drop, trig)
			end := p.LeaveMs
			b2b = false
			switch u := rng.Float64(); {
			case u < c.POverlap && p.DwellMs() > 4000:
				// A second browser joins 2 s or more after the first came,
				// standing at least 150 mm nearer or farther.
				q := &Shopper{ArriveMs: t + 2000 + rng.Int64N(p.DwellMs()-3000), Browser: true, Overlap: true}
				q.LeaveMs = q.ArriveMs + dwell()
				for q.DistMM = stand(); abs(q.DistMM-p.DistMM) < 150; q.DistMM = stand() {
				}
				s.addBrowser(rng, q, drop, trig)
				end = max(end, q.LeaveMs)
				t = end + c.IdleMinMs + expGap(rng, c.BrowsersPerMin)
			case u < c.POverlap+c.PBackToBack:
				t, b2b = end+1000+rng.Int64N(2001), true
			default:
				t = end + c.IdleMinMs + expGap(rng, c.BrowsersPerMin)
			}
		}
	}
	for t := expGap(rng, c.PassersPerMin); t < c.DurationMs; t += expGap(rng, c.PassersPerMin) {
		vis := 300 + rng.Int64N(901)
		if rng.Float64() < c.PPause {
			vis = 1500 + rng.Int64N(901)
		}
		p := &Shopper{ArriveMs: t, LeaveMs: t + vis, DistMM: c.LaneMinMM + rng.IntN(c.LaneMaxMM-c.LaneMinMM+1)}
		s.people = append(s.people, p)
		// Walking is motion all the way through the PIR's view, which
		// reaches a little beyond the distance sensor's beam.
		for m := t - 500; m <= p.LeaveMs+500; m += 300 {
			*trig = append(*trig, m)
		}
	}
	sort.SliceStable(s.people, func(i, j int) bool { return s.people[i].ArriveMs < s.people[j].ArriveMs })
}

// addBrowser draws a browser's poses, dropouts and motion.
func (s *Shelf) addBrowser(rng *rand.Rand, p *Shopper, drop *[]interval, trig *[]int64) {
	c := s.cfg
	s.people = append(s.people, p)
	lo, hi := p.ArriveMs+500, p.LeaveMs-500 // poses keep clear of arrival and departure
	for t := lo + expGap(rng, c.PoseShiftsPerMin); t < hi; t += expGap(rng, c.PoseShiftsPerMin) {
		p.poses = append(p.poses, pose{interval: interval{t, min(t+100+rng.Int64N(501), hi)}, hidden: true})
	}
	for t := lo + expGap(rng, c.StepBacksPerMin); t < hi; t += expGap(rng, c.StepBacksPerMin) {
		ps := pose{interval: interval{t, min(t+1000+rng.Int64N(5001), hi)}, offMM: 400 + rng.IntN(201)}
		if rng.Float64() < 0.3 {
			ps.offMM = -(100 + rng.IntN(151)) // reaches for a product
		}
		p.poses = append(p.poses, ps)
		t = ps.end
	}
	sort.Slice(p.poses, func(i, j int) bool { return p.poses[i].start < p.poses[j].start })
	for t := p.ArriveMs + expGap(rng, c.DropoutsPerMin); t < p.LeaveMs; t += expGap(rng, c.DropoutsPerMin) {
		*drop = append(*drop, interval{t, t + c.DropoutMinMs + rng.Int64N(c.DropoutMaxMs-c.DropoutMinMs+1)})
	}
	// Motion: walking in and out, and moving now and then while browsing.
	for m := p.ArriveMs - 600; m <= p.ArriveMs+300; m += 300 {
		*trig = append(*trig, m)
	}
	for m := p.LeaveMs - 300; m <= p.LeaveMs+600; m += 300 {
		*trig = append(*trig, m)
	}
	gap := c.MotionGapMs
	if rng.Float64() < c.PStill {
		gap = c.StillGapMs
	}
	for m := p.ArriveMs + 300 + int64(rng.ExpFloat64()*gap); m < p.LeaveMs-300; m += 200 + int64(rng.ExpFloat64()*gap) {
		*trig = append(*trig, m)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// pirOutput is the output of a BISS0001-based module (HC-SR501) for sorted
// element triggers: high from a trigger until hold after it; in retrigger
// mode a trigger while high extends that to hold after the last one; after
// the output falls, triggers are ignored for block.
func pirOutput(trig []int64, hold, block int64, retrigger bool) []interval {
	var out []interval
	blindUntil := int64(math.MinInt64)
	for _, t := range trig {
		if n := len(out); n > 0 && t <= out[n-1].end {
			if retrigger {
				out[n-1].end = t + hold
				blindUntil = out[n-1].end + block
			}
			continue
		}
		if t < blindUntil {
			continue
		}
		out = append(out, interval{t, t + hold})
		blindUntil = t + hold + block
	}
	return out
}

// Config returns the configuration the aisle was built from.
func (s *Shelf) Config() ShelfConfig { return s.cfg }

// Shoppers returns everyone in the aisle, by arrival.
func (s *Shelf) Shoppers() []*Shopper { return s.people }

// PIRTriggers returns the times the PIR element saw motion, sorted.
func (s *Shelf) PIRTriggers() []int64 { return s.triggers }

// idleMM is what the sensor reads with nobody in front of it.
func (c ShelfConfig) idleMM() int { return min(c.AisleMM, c.MaxRangeMM) }

// Hash-noise tags of the shelf model (distinct from the doorway's).
const (
	tagShelfGlitch = 0x5e100 + iota*16
	tagShelfGlitchVal
	tagShelfInvalid
	tagShelfNoise
	tagShelfSway
)

func (s *Shelf) u01(tag uint64, t int64) float64 { return hashU01(s.cfg.Seed, tag, t) }

func (s *Shelf) gauss(tag uint64, t int64) float64 { return hashGauss(s.cfg.Seed, tag, 1, t) }

// seen returns the distance at which the sensor sees shopper p at t, or
// false when it sees past them.
func (s *Shelf) seen(p *Shopper, t int64) (float64, bool) {
	d := float64(p.DistMM)
	i := sort.Search(len(p.poses), func(i int) bool { return p.poses[i].start > t })
	for i--; i >= 0; i-- {
		ps := p.poses[i]
		if t < ps.end {
			if ps.hidden {
				return 0, false
			}
			d += float64(ps.offMM)
		}
		if ps.start < t-6000 {
			break
		}
	}
	if p.Browser {
		d += s.cfg.SwayMM * s.gauss(tagShelfSway, t)
	}
	return d, true
}

// ShelfDistance is what the sensor ranges at tMs, in mm: the nearest
// shopper in its beam, else the far side of the aisle (or its maximum
// range); -1 when the reading is invalid.
func (s *Shelf) ShelfDistance(tMs int64) int {
	c := s.cfg
	idle := float64(c.idleMM())
	if s.u01(tagShelfGlitch, tMs) < c.PGlitch {
		return int(100 + (idle-200)*s.u01(tagShelfGlitchVal, tMs))
	}
	if inIntervals(s.dropouts, tMs) || s.u01(tagShelfInvalid, tMs) < c.PInvalid {
		return -1
	}
	d := idle
	i := sort.Search(len(s.people), func(i int) bool { return s.people[i].ArriveMs > tMs })
	for i--; i >= 0 && s.people[i].ArriveMs >= tMs-s.maxSpan; i-- {
		p := s.people[i]
		if tMs >= p.LeaveMs {
			continue
		}
		if pd, ok := s.seen(p, tMs); ok && pd < d {
			d = pd
		}
	}
	d += c.NoiseMM * s.gauss(tagShelfNoise, tMs)
	return int(math.Round(math.Max(40, math.Min(d, float64(c.MaxRangeMM)))))
}

// PIRMotion reports whether the PIR module's output is high at tMs.
func (s *Shelf) PIRMotion(tMs int64) bool { return inIntervals(s.pir, tMs) }

// ShelfTruth is the ground truth of an aisle over a time range.
type ShelfTruth struct {
	StopBys int     // shoppers who stayed at least DwellMinMs
	DwellMs []int64 // their stays, in order of leaving
	Passing int     // presences shorter than DwellMinMs (passers-by, glances)
	Overlap int     // stop-bys that began while another browser was there
}

// ShelfTruth counts the presences that ended in [fromMs, toMs).
func (s *Shelf) ShelfTruth(fromMs, toMs int64) ShelfTruth {
	var tr ShelfTruth
	var ps []*Shopper
	for _, p := range s.people {
		if p.LeaveMs >= fromMs && p.LeaveMs < toMs {
			ps = append(ps, p)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].LeaveMs < ps[j].LeaveMs })
	for _, p := range ps {
		if p.DwellMs() < s.cfg.DwellMinMs {
			tr.Passing++
			continue
		}
		tr.StopBys++
		tr.DwellMs = append(tr.DwellMs, p.DwellMs())
		if p.Overlap {
			tr.Overlap++
		}
	}
	return tr
}

// Readings appends to dst, in time order, what a driver of the given kind
// delivers over the aisle's duration, as sensor index idx: tof-presence one
// ranging every SamplePeriodMs on channel d; pir the changes of the output
// on channel motion (it starts low).
func (s *Shelf) Readings(kind sensor.Kind, idx int, dst []sensor.Reading) ([]sensor.Reading, error) {
	switch kind {
	case sensor.KindToFPresence:
		p := int64(s.cfg.SamplePeriodMs)
		for t := int64(0); t < s.cfg.DurationMs; t += p {
			dst = append(dst, sensor.Reading{TMs: t, Sensor: idx, Value: int64(s.ShelfDistance(t))})
		}
	case sensor.KindPIR:
		for _, iv := range s.pir {
			if iv.start >= s.cfg.DurationMs {
				break
			}
			dst = append(dst, sensor.Reading{TMs: max(iv.start, 0), Sensor: idx, Value: 1})
			if iv.end < s.cfg.DurationMs {
				dst = append(dst, sensor.Reading{TMs: iv.end, Sensor: idx, Value: 0})
			}
		}
	default:
		return dst, fmt.Errorf("sim: kind %s is not simulated at a shelf (tof-presence, pir are)", kind)
	}
	return dst, nil
}

// WriteTrace renders the aisle as a trace-v1 file: every sensor declared
// with role shelf and dwell_min_ms from the config (a pir also with hold_ms,
// the module's hold time, unless Params give them), then every reading
// merged in time order.
func (s *Shelf) WriteTrace(out io.Writer, start time.Time, sensors ...TraceSensor) error {
	return writeTrace(out, start, traceHeader{
		comment: fmt.Sprintf("simulated shelf scenario %q seed %d", s.cfg.Name, s.cfg.Seed),
		role:    sensor.RoleShelf,
		defaults: func(kind sensor.Kind) [][2]string {
			kv := [][2]string{{"dwell_min_ms", strconv.FormatInt(s.cfg.DwellMinMs, 10)}}
			if kind == sensor.KindPIR {
				kv = append(kv, [2]string{"hold_ms", strconv.FormatInt(s.cfg.PIRHoldMs, 10)})
			}
			return kv
		},
	}, s, sensors)
}

// shelfScenarios are the named aisles tests and the demo use; an hour each.
var shelfScenarios = scenarioTable[ShelfConfig]{
	base: func(name string, seed uint64) ShelfConfig {
		c := DefaultShelfConfig()
		c.Name, c.Seed = name, seed
		return c
	},
	unknown: func(name string, known []string) error {
		return fmt.Errorf("sim: unknown shelf scenario %q (known: %s)", name, strings.Join(known, ", "))
	},
	list: []scenario[ShelfConfig]{
		{"browsers-with-pose-shifts", "browsers who turn out of the beam, step back half a metre and reach in, often", func(c *ShelfConfig) {
			c.PoseShiftsPerMin, c.StepBacksPerMin, c.SwayMM = 6, 3, 35
		}},
		{"dropouts", "dark clothes: bursts of invalid readings (0.2-1.5 s) while browsing, and idle", func(c *ShelfConfig) {
			c.DropoutsPerMin, c.IdleDropoutsPerMin, c.PInvalid = 6, 2, 0.02
		}},
		{"aisle-passersby", "a busy aisle: 8 passers-by a minute, one in ten pausing up to 2.4 s, 0.7-1.5 m from the shelf", func(c *ShelfConfig) {
			c.PassersPerMin, c.PPause, c.BrowsersPerMin = 8, 0.1, 4
		}},
		{"crowded-aisle", "a crowded aisle (a stress test beyond a single-zone sensor): 12 passers-by a minute, a fifth pausing up to 2.4 s", func(c *ShelfConfig) {
			c.PassersPerMin, c.PPause, c.BrowsersPerMin = 12, 0.2, 4
		}},
		{"back-to-back", "60 % of browsers are followed by the next 1-3 s after they leave", func(c *ShelfConfig) {
			c.PBackToBack, c.PassersPerMin = 0.6, 1
		}},
		{"noisy", "noisy ranges (40 mm), 5 % invalid readings, 1 % glitches, restless browsers", func(c *ShelfConfig) {
			c.NoiseMM, c.PInvalid, c.PGlitch, c.SwayMM = 40, 0.05, 0.01, 40
			c.PoseShiftsPerMin, c.DropoutsPerMin = 2, 2
		}},
		{"mixed-hour", "a realistic hour: pose shifts, dropouts, passers-by, back-to-back and overlapping browsers, noise", func(c *ShelfConfig) {
			c.PoseShiftsPerMin, c.StepBacksPerMin, c.SwayMM = 3, 1.5, 30
			c.DropoutsPerMin, c.IdleDropoutsPerMin, c.PInvalid = 2, 0.5, 0.01
			c.PassersPerMin, c.PPause = 6, 0.15
			c.PBackToBack, c.POverlap = 0.2, 0.02
			c.NoiseMM, c.PGlitch = 20, 0.003
			c.AisleMM = 2200
		}},
	},
}

// ShelfScenarioNames lists the named shelf scenarios.
func ShelfScenarioNames() []string { return shelfScenarios.names() }

// ShelfScenarioDoc returns the one-line description of a named shelf scenario.
func ShelfScenarioDoc(name string) string { return shelfScenarios.doc(name) }

// ShelfScenario returns the configuration of a named shelf scenario.
func ShelfScenario(name string, seed uint64) (ShelfConfig, error) {
	return shelfScenarios.config(name, seed)
}
