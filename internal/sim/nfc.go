package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/omo-edge/edge-agent/internal/pseudo"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/trace"
)

// NFCConfig is one simulated hour (or any duration) at a store's smart
// plates and its check-in reader. Everything is deterministic per Seed.
type NFCConfig struct {
	Name       string
	Seed       uint64
	DurationMs int64
	TailMs     int64 // nothing starts in the last TailMs, so every tap and check-in has ended

	// Plates: each its own nfc-plate sensor, plate-1 .. plate-N.
	Plates         int
	TapsPerMin     float64 // customers tapping each plate, Poisson
	HoldMinMs      int     // how long a phone stays on the plate
	HoldMaxMs      int
	HandoverMs     int     // the next customer's phone arrives at least this long after the last one left
	PFlicker       float64 // share of taps whose field drops out while the phone stays (edge of range)
	FlickMax       int     // dropouts in a flickering tap, 1..FlickMax
	FlickGapMinMs  int     // length of one dropout; below the detector's merge_ms
	FlickGapMaxMs  int
	PDoubleTap     float64 // share of customers who tap twice, seconds apart: two taps
	DoubleGapMinMs int
	DoubleGapMaxMs int
	NearMissPerMin float64 // phones swept past a plate, per plate: a field too short to read the tag
	NearMissMaxMs  int     // their length, 5..NearMissMaxMs

	// Reader: one nfc-reader sensor, "reader".
	VisitsPerMin  float64 // members presenting a card or app, Poisson
	Members       int     // distinct members they are drawn from
	CardHoldMinMs int     // how long a card stays in the reader's field
	CardHoldMaxMs int
	PollMs        int     // one poll (InListPassiveTarget) every PollMs
	PMissPoll     float64 // a poll of a present card that fails (no line)
	PReturnSoon   float64 // share of visits followed by the member presenting again within RepeatMs
	PReturnLater  float64 // share of visits followed by the member coming back after RepeatMs
	RepeatMs      int64   // the reader's repeat_ms
}

// DefaultNFCConfig is an hour at two plates and a reader with clean,
// well-behaved customers.
func DefaultNFCConfig() NFCConfig {
	return NFCConfig{
		Name: "nfc-default", Seed: 1, DurationMs: 3600_000, TailMs: 10_000,
		Plates: 2, TapsPerMin: 1, HoldMinMs: 500, HoldMaxMs: 4000, HandoverMs: 2500,
		FlickMax: 4, FlickGapMinMs: 20, FlickGapMaxMs: 600,
		DoubleGapMinMs: 2500, DoubleGapMaxMs: 8000, NearMissMaxMs: 60,
		VisitsPerMin: 1, Members: 2000, CardHoldMinMs: 400, CardHoldMaxMs: 3000, PollMs: 150,
		RepeatMs: sensor.DefaultRepeatMs,
	}
}

// Validate reports a configuration the model cannot run.
func (c NFCConfig) Validate() error {
	k := configCheck{"sim nfc config", c.Name}
	bad := k.bad
	if err := k.probabilities(field{"PFlicker", c.PFlicker}, field{"PDoubleTap", c.PDoubleTap}, field{"PMissPoll", c.PMissPoll},
		field{"PReturnSoon", c.PReturnSoon}, field{"PReturnLater", c.PReturnLater}); err != nil {
		return err
	}
	if c.PMissPoll > 0.9 {
		return bad("PMissPoll", c.PMissPoll, "want at most 0.9 (cards must be readable)")
	}
	if err := k.within(0, 600, "want a rate from 0 to 600 per minute",
		field{"TapsPerMin", c.TapsPerMin}, field{"NearMissPerMin", c.NearMissPerMin}, field{"VisitsPerMin", c.VisitsPerMin}); err != nil {
		return err
	}
	switch {
	case c.DurationMs <= 0 || c.DurationMs > 7*24*3600_000:
		return bad("DurationMs", c.DurationMs, "want 1 ms to a week")
	case c.TailMs < 0 || c.TailMs >= c.DurationMs:
		return bad("TailMs", c.TailMs, "want 0 <= TailMs < DurationMs")
	case c.Plates < 0 || c.Plates > 64:
		return bad("Plates", c.Plates, "want 0 to 64")
	case c.HoldMinMs < 1 || c.HoldMaxMs < c.HoldMinMs:
		return bad("HoldMinMs..HoldMaxMs", [2]int{c.HoldMinMs, c.HoldMaxMs}, "want 1 <= min <= max")
	case c.HandoverMs < 0:
		return bad("HandoverMs", c.HandoverMs, "want >= 0")
	case c.FlickMax < 1:
		return bad("FlickMax", c.FlickMax, "want >= 1")
	case c.FlickGapMinMs < 1 || c.FlickGapMaxMs < c.FlickGapMinMs:
		return bad("FlickGapMinMs..FlickGapMaxMs", [2]int{c.FlickGapMinMs, c.FlickGapMaxMs}, "want 1 <= min <= max")
	case c.DoubleGapMinMs < 1 || c.DoubleGapMaxMs < c.DoubleGapMinMs:
		return bad("DoubleGapMinMs..DoubleGapMaxMs", [2]int{c.DoubleGapMinMs, c.DoubleGapMaxMs}, "want 1 <= min <= max")
	case c.NearMissMaxMs < 5:
		return bad("NearMissMaxMs", c.NearMissMaxMs, "want >= 5")
	case c.Members < 1:
		return bad("Members", c.Members, "want >= 1")
	case c.CardHoldMinMs < 1 || c.CardHoldMaxMs < c.CardHoldMinMs:
		return bad("CardHoldMinMs..CardHoldMaxMs", [2]int{c.CardHoldMinMs, c.CardHoldMaxMs}, "want 1 <= min <= max")
	case c.PollMs < 1:
		return bad("PollMs", c.PollMs, "want >= 1")
	case c.RepeatMs < 0:
		return bad("RepeatMs", c.RepeatMs, "want >= 0")
	}
	return nil
}

// nfcScenarios are the named NFC worlds: an hour each, so that 1 % means
// something (hundreds of taps and check-ins).
var nfcScenarios = scenarioTable[NFCConfig]{
	base: func(name string, seed uint64) NFCConfig {
		c := DefaultNFCConfig()
		c.Name, c.Seed = name, seed
		return c
	},
	unknown: func(name string, known []string) error {
		return fmt.Errorf("sim: unknown NFC scenario %q (known: %v)", name, known)
	},
	list: []scenario[NFCConfig]{
		{"nfc-flicker", "every phone wobbles at the edge of range: 1-6 dropouts of 20-1200 ms per tap", func(c *NFCConfig) {
			c.Plates, c.TapsPerMin, c.PFlicker, c.FlickMax, c.FlickGapMaxMs = 3, 2, 1, 6, 1200
		}},
		{"nfc-double-taps", "half the customers tap twice, 2.5-8 s apart", func(c *NFCConfig) {
			c.Plates, c.TapsPerMin, c.PDoubleTap, c.PFlicker = 3, 2, 0.5, 0.3
		}},
		{"nfc-near-misses", "phones swept past the plates (5-60 ms fields) as often as real taps", func(c *NFCConfig) {
			c.Plates, c.TapsPerMin, c.NearMissPerMin, c.PFlicker = 3, 2, 2, 0.3
		}},
		{"nfc-repeated-polls", "cards held 1-8 s on a fast-polling reader: dozens of polls each, 20 % of polls fail", func(c *NFCConfig) {
			c.VisitsPerMin, c.CardHoldMinMs, c.CardHoldMaxMs, c.PollMs, c.PMissPoll = 6, 1000, 8000, 50, 0.2
		}},
		{"nfc-repeat-visits", "a small membership; 40 % present again within repeat_ms, 30 % come back after it", func(c *NFCConfig) {
			c.VisitsPerMin, c.Members, c.PReturnSoon, c.PReturnLater, c.RepeatMs = 5, 200, 0.4, 0.3, 300_000
		}},
		{"nfc-many-members", "a busy entrance: 12 check-ins a minute from 20 000 members", func(c *NFCConfig) {
			c.VisitsPerMin, c.Members, c.PMissPoll = 12, 20000, 0.05
		}},
		{"nfc-mixed-hour", "a realistic hour: 4 plates with flicker, double taps and near misses; a reader with misses and repeat visits", func(c *NFCConfig) {
			c.Plates, c.TapsPerMin, c.PFlicker, c.PDoubleTap, c.NearMissPerMin = 4, 1.5, 0.4, 0.15, 0.5
			c.VisitsPerMin, c.Members, c.PMissPoll, c.PReturnSoon, c.PReturnLater = 4, 500, 0.1, 0.15, 0.1
		}},
	},
}

// NFCScenarioNames lists the named NFC scenarios.
func NFCScenarioNames() []string { return nfcScenarios.names() }

// NFCScenarioDoc returns the one-line description of a named NFC scenario.
func NFCScenarioDoc(name string) string { return nfcScenarios.doc(name) }

// NFCScenario returns the configuration of a named NFC scenario.
func NFCScenario(name string, seed uint64) (NFCConfig, error) { return nfcScenarios.config(name, seed) }

// NFCTruth is what really happened.
type NFCTruth struct {
	Taps          []int64 // per plate: phones that read the plate (a double tap is two)
	NearMisses    []int64 // per plate: fields too short to read the tag (not taps)
	Checkins      int64   // distinct check-ins under trace-v1's repeat_ms rule
	Presentations int64   // times a card was presented (several per check-in when members return soon)
	Polls         int64   // successful polls: reader lines
}

// TotalTaps sums Taps over the plates.
func (t NFCTruth) TotalTaps() int64 {
	var n int64
	for _, x := range t.Taps {
		n += x
	}
	return n
}

// NFCWorld is a generated NFC scenario: the field of every plate, the polls
// of the reader and the ground truth.
type NFCWorld struct {
	cfg    NFCConfig
	fields [][]interval // per plate, the field-on periods, disjoint and sorted
	polls  []poll
	truth  NFCTruth
}

type poll struct {
	t   int64
	tok []byte // pseudonymized, as the agent hands it to detection
}

// NewNFCWorld generates the scenario.
func NewNFCWorld(cfg NFCConfig) (*NFCWorld, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &NFCWorld{cfg: cfg}
	w.truth.Taps = make([]int64, cfg.Plates)
	w.truth.NearMisses = make([]int64, cfg.Plates)
	w.fields = make([][]interval, cfg.Plates)
	for p := range cfg.Plates {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x91a7e0+uint64(p)))
		w.fields[p] = w.genPlate(rng, p)
	}
	if err := w.genReader(rand.New(rand.NewPCG(cfg.Seed, 0x4eade4))); err != nil {
		return nil, err
	}
	return w, nil
}

// Config returns the world's configuration.
func (w *NFCWorld) Config() NFCConfig { return w.cfg }

// Truth returns the ground truth.
func (w *NFCWorld) Truth() NFCTruth { return w.truth }

func nfcUniform(rng *rand.Rand, lo, hi int) int64 { return int64(lo + rng.IntN(hi-lo+1)) }

// expMs draws a Poisson inter-arrival time for perMin events a minute.
func nfcExpMs(rng *rand.Rand, perMin float64) int64 {
	return int64(rng.ExpFloat64() * 60_000 / perMin)
}

// genPlate draws the customers at one plate and what its field-detect line
// sees: each tap is one or more field-on periods (dropouts when the phone
// wobbles), near misses are lone blips.
func (w *NFCWorld) genPlate(rng *rand.Rand, p int) []interval {
	c := w.cfg
	end := c.DurationMs - c.TailMs
	var on []interval
	tap := func(a int64) int64 {
		hold := nfcUniform(rng, c.HoldMinMs, c.HoldMaxMs)
		last := a + hold
		cur := a
		if rng.Float64() < c.PFlicker {
			k := 1 + rng.IntN(c.FlickMax)
			cuts := make([]int64, k)
			for i := range cuts {
				cuts[i] = a + 10 + rng.Int64N(max(hold-20, 1))
			}
			sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
			for _, x := range cuts {
				if x < cur+10 {
					continue // dropouts never overlap: the phone must come back first
				}
				on = append(on, interval{cur, x})
				cur = x + nfcUniform(rng, c.FlickGapMinMs, c.FlickGapMaxMs)
			}
		}
		if last < cur+readMs {
			last = cur + readMs // after the last dropout the phone stays long enough to read the tag
		}
		on = append(on, interval{cur, last})
		w.truth.Taps[p]++
		return last
	}
	free := int64(0) // when the plate is free for the next customer
	if c.TapsPerMin > 0 {
		for t := nfcExpMs(rng, c.TapsPerMin); ; t += nfcExpMs(rng, c.TapsPerMin) {
			a := max(t, free)
			if a >= end {
				break
			}
			e := tap(a)
			if rng.Float64() < c.PDoubleTap {
				if b := e + nfcUniform(rng, c.DoubleGapMinMs, c.DoubleGapMaxMs); b < end {
					e = tap(b)
				}
			}
			free = e + int64(c.HandoverMs) + rng.Int64N(int64(c.HandoverMs)+1)
		}
	}
	if c.NearMissPerMin > 0 {
		for t := nfcExpMs(rng, c.NearMissPerMin); t < end; t += nfcExpMs(rng, c.NearMissPerMin) {
			on = append(on, interval{t, t + nfcUniform(rng, 5, c.NearMissMaxMs)})
			w.truth.NearMisses[p]++
		}
	}
	return merge(on)
}

// genReader draws the members' visits to the reader and the polls that
// read their tokens. Presentations are served one at a time; a card whose
// every poll failed is presented again at once (the reader did not beep).
func (w *NFCWorld) genReader(rng *rand.Rand) error {
	c := w.cfg
	if c.VisitsPerMin == 0 {
		return nil
	}
	end := c.DurationMs - c.TailMs
	type visit struct {
		t      int64
		member int
	}
	var visits []visit
	for t := nfcExpMs(rng, c.VisitsPerMin); t < end; t += nfcExpMs(rng, c.VisitsPerMin) {
		m := rng.IntN(c.Members)
		visits = append(visits, visit{t, m})
		if rng.Float64() < c.PReturnSoon && c.RepeatMs > 10_000 {
			visits = append(visits, visit{t + nfcUniform(rng, 5_000, int(c.RepeatMs*8/10)), m})
		}
		if rng.Float64() < c.PReturnLater {
			visits = append(visits, visit{t + c.RepeatMs + 5_000 + rng.Int64N(c.RepeatMs/2+1), m})
		}
	}
	sort.SliceStable(visits, func(i, j int) bool { return visits[i].t < visits[j].t })

	// Tokens: each member's card UID (7-byte NXP UID) pseudonymized with a
	// store secret, as the agent does before detection sees it.
	ps, err := pseudo.New([]byte("simulated store secret " + strconv.FormatUint(c.Seed, 16) + "................"))
	if err != nil {
		return err
	}
	tokens := map[int][]byte{}
	token := func(m int) []byte {
		if t, ok := tokens[m]; ok {
			return t
		}
		uid := []byte{0x04, 0, 0, 0, 0, 0, 0}
		r := rand.New(rand.NewPCG(c.Seed^0xc4d5, uint64(m)))
		for i := 1; i < len(uid); i++ {
			uid[i] = byte(r.Uint32())
		}
		t := ps.Token(uid)
		tokens[m] = t
		return t
	}

	last := map[int]int64{} // member -> time of the last check-in (truth)
	free := int64(0)
	period := int64(c.PollMs)
	for _, v := range visits {
		a := max(v.t, free)
		if a >= c.DurationMs {
			break
		}
		first := int64(-1)
		for try := 0; try < 20 && first < 0; try++ {
			hold := nfcUniform(rng, c.CardHoldMinMs, c.CardHoldMaxMs)
			// Polls run on the reader's own clock: the first after a.
			for pt := (a + period - 1) / period * period; pt < a+hold && pt < c.DurationMs; pt += period {
				if rng.Float64() < c.PMissPoll {
					continue
				}
				if first < 0 {
					first = pt
				}
				w.polls = append(w.polls, poll{t: pt, tok: token(v.member)})
				w.truth.Polls++
			}
			a += hold
			free = a + 300 + rng.Int64N(700)
			a = free
		}
		if first < 0 {
			continue // gave up: nobody was counted, nothing was read
		}
		w.truth.Presentations++
		if l, ok := last[v.member]; !ok || first-l >= c.RepeatMs {
			last[v.member] = first
			w.truth.Checkins++
		}
	}
	return nil
}

// Specs returns the sensors of the world: plate-1 .. plate-N (nfc-plate,
// role plate), then "reader" (nfc-reader, role checkin, repeat_ms of the
// config). plateKV are extra keys for every plate (e.g. merge_ms).
func (w *NFCWorld) Specs(plateKV ...[2]string) ([]sensor.Spec, error) {
	var specs []sensor.Spec
	for p := range w.cfg.Plates {
		s, err := sensor.NewSpec("plate-"+strconv.Itoa(p+1), sensor.KindNFCPlate, sensor.RolePlate, plateKV)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	s, err := sensor.NewSpec("reader", sensor.KindNFCReader, sensor.RoleCheckin,
		[][2]string{{"repeat_ms", strconv.FormatInt(w.cfg.RepeatMs, 10)}})
	if err != nil {
		return nil, err
	}
	return append(specs, s), nil
}

// Readings appends every reading of the world to dst in time order: field
// changes of plate p as sensor p, successful polls as sensor Plates (token
// readings, Channel 0). At equal times plates come before the reader. Each
// plate ends with one more field,0 at DurationMs, the recorder's last look
// at NS_REG: without it a replay would stop at the last change and never
// learn that the last tap's field stayed off for merge_ms.
func (w *NFCWorld) Readings(dst []sensor.Reading) []sensor.Reading {
	n := w.cfg.Plates
	streams := make([][]sensor.Reading, n+1)
	for p := range n {
		streams[p] = changes(nil, w.fields[p], p, 0)
	}
	streams[n] = make([]sensor.Reading, 0, len(w.polls))
	for _, pl := range w.polls {
		streams[n] = append(streams[n], sensor.Reading{TMs: pl.t, Sensor: n, Token: pl.tok})
	}
	dst = mergeReadings(dst, streams...)
	for p := range n {
		dst = append(dst, sensor.Reading{TMs: w.cfg.DurationMs, Sensor: p})
	}
	return dst
}

// WriteTrace renders the world as a trace-v1 file: field changes of every
// plate (field,1 / field,0) and one token line, lower-case hex, per
// successful poll of the reader.
func (w *NFCWorld) WriteTrace(out io.Writer, start time.Time, plateKV ...[2]string) error {
	specs, err := w.Specs(plateKV...)
	if err != nil {
		return fmt.Errorf("sim: WriteTrace: %w", err)
	}
	tw, err := trace.NewWriter(out, trace.Header{Start: start, Sensors: specs})
	if err != nil {
		return fmt.Errorf("sim: WriteTrace: %w", err)
	}
	for _, r := range w.Readings(nil) {
		if err := tw.Write(r); err != nil {
			return fmt.Errorf("sim: WriteTrace: %w", err)
		}
	}
	return tw.Flush()
}

// readMs is the shortest unbroken field in which a phone in the model
// reads the tag; near misses stay below it.
const readMs = 150
