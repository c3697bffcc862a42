package agent

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/omo-edge/edge-agent/drivers/people-counter/gp2y0a"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

// simSegmentMs is the length of one simulated world: the crowd is drawn in
// segments so a long-running demo keeps its memory flat.
const simSegmentMs = 2 * 60_000

// crowd is the simulated people at one sensed line, over endless time.
type crowd struct {
	base sim.Config
	mu   sync.Mutex
	seg  int64
	w    *sim.World
}

func newCrowd(sc config.SensorConfig) (*crowd, error) {
	s := sc.Simulate
	c := sim.DefaultConfig()
	if s.Scenario != "" {
		var err error
		if c, err = sim.Scenario(s.Scenario, uint64(s.Seed)); err != nil {
			return nil, fmt.Errorf("simulated crowd: %w", err)
		}
	}
	c.Name = sc.ID
	c.Seed = uint64(s.Seed)
	c.DurationMs = simSegmentMs
	c.ArrivalsPerMin = s.PerMinute
	c.PForward = 0.5
	if s.InShare > 0 {
		c.PForward = s.InShare
	}
	if s.MountMM > 0 {
		c.MountMM = s.MountMM
	}
	c.Line = sim.Door
	if sc.Role == string(sensor.RolePasserby) {
		c.Line = sim.Storefront
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("simulated crowd: %w", err)
	}
	cr := &crowd{base: c, seg: -1}
	cr.at(0)
	return cr, nil
}

// at returns the world holding time tMs and tMs within it.
func (c *crowd) at(tMs int64) (*sim.World, int64) {
	if tMs < 0 {
		tMs = 0
	}
	seg := tMs / simSegmentMs
	c.mu.Lock()
	defer c.mu.Unlock()
	if seg != c.seg {
		cfg := c.base
		cfg.Seed = c.base.Seed*1_000_003 + uint64(seg)
		w, err := sim.New(cfg)
		if err != nil {
			return c.w, tMs % simSegmentMs // keep the previous world: config was checked at start
		}
		c.w, c.seg = w, seg
	}
	return c.w, tMs % simSegmentMs
}

// openSimSource puts a simulated crowd in front of an emulated chip and
// reads it through the real driver.
func openSimSource(sc config.SensorConfig, env *SourceEnv) (Source, error) {
	switch sensor.Kind(sc.Kind) {
	case sensor.KindToFPresence, sensor.KindPIR:
		return openSimShelf(sc, env)
	}
	cr, err := newCrowd(sc)
	if err != nil {
		return nil, err
	}
	start := env.Clock.Now()
	since := func(t time.Time) int64 { return t.Sub(start).Milliseconds() }
	switch sensor.Kind(sc.Kind) {
	case sensor.KindToF2Zone:
		_, _, z0, _ := roiOf(sc)
		emu := vl53l1xtest.New(&vl53l1xtest.Options{Name: sc.ID, Scene: func(roi vl53l1xtest.ROI, at time.Time) (int, int) {
			zone := 1
			if roi.Center == z0 {
				zone = 0
			}
			w, t := cr.at(since(at))
			d := w.ZoneDistance(zone, t)
			if d < 0 {
				return 0, 2 // signal fail: the driver reports no valid range
			}
			return d, 0
		}})
		opts, err := tofOpts(sc, env)
		if err != nil {
			return nil, err
		}
		return newToF2Zone(vl53l1xtest.NewBus(emu), nil, sc, opts)
	case sensor.KindBeamPair:
		pins := []*pintest.Pin{pintest.New(sc.Pins["a"], 0), pintest.New(sc.Pins["b"], 1)}
		src, err := newBeamSource(pins[0], pins[1], sc, env)
		if err != nil {
			return nil, err
		}
		return &simPins{Source: src, pins: pins, activeLow: activeLow(sc), start: start, step: simPinStep,
			active: func(ch int, t int64) bool { w, t := cr.at(t); return w.BeamBlocked(ch, t) }}, nil
	case sensor.KindPulse:
		lines := map[string]gpio.PinIn{}
		var pins []*pintest.Pin
		for i, ch := range sensor.KindPulse.Channels() {
			p := pintest.New(sc.Pins[ch], i)
			pins = append(pins, p)
			if sc.Pins[ch] != "" {
				lines[ch] = p
			}
		}
		src, err := newPulseSource(lines, sc, env)
		if err != nil {
			return nil, err
		}
		return &simPins{Source: src, pins: pins, activeLow: activeLow(sc), start: start, step: simPinStep,
			active: func(ch int, t int64) bool { w, t := cr.at(t); return w.PulseActive(ch, t) }}, nil
	}
	return nil, fmt.Errorf("kind %s cannot be simulated yet", sc.Kind)
}

func activeLow(sc config.SensorConfig) bool {
	if sc.ActiveLow != nil {
		return *sc.ActiveLow
	}
	// The drivers' defaults: open-collector outputs pulled up, but a PIR
	// module's push-pull output goes high on motion.
	return sensor.Kind(sc.Kind) != sensor.KindPIR
}

// simPins drives fake GPIO lines from a simulation while the real driver
// reads them.
type simPins struct {
	Source
	pins      []*pintest.Pin
	activeLow bool
	start     time.Time
	step      time.Duration
	// active says whether channel ch's output is active tMs after start.
	active func(ch int, tMs int64) bool
}

// simPinStep is how often the simulated lines are updated: finer than any
// debounce or minimum pulse the drivers apply.
const simPinStep = 2 * time.Millisecond

func (s *simPins) Run(ctx context.Context, emit Emit) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, p := range s.pins {
		p.Set(s.level(false))
	}
	go func() {
		t := time.NewTicker(s.step)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				ms := now.Sub(s.start).Milliseconds()
				for ch, p := range s.pins {
					p.Set(s.level(s.active(ch, ms)))
				}
			}
		}
	}()
	return s.Source.Run(ctx, emit)
}

func (s *simPins) level(active bool) gpio.Level { return gpio.Level(active != s.activeLow) }

func (s *simPins) Close() error {
	if c, ok := s.Source.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// aisle is the simulated aisle in front of one shelf, over endless time:
// drawn in segments like crowd, so a long-running demo keeps its memory
// flat (a browser in front of the shelf at a segment's end leaves then).
type aisle struct {
	base sim.ShelfConfig
	mu   sync.Mutex
	seg  int64
	s    *sim.Shelf
}

// shelfSimConfig is the simulated aisle of a shelf sensor whose range ends
// at rangeMM: the simulation's defaults (pose shifts, step-backs, noise,
// passers-by), with the rates and aisle width of the config, and shoppers
// standing where the sensor can see them.
func shelfSimConfig(sc config.SensorConfig, rangeMM int) (sim.ShelfConfig, error) {
	s := sc.Simulate
	c := sim.DefaultShelfConfig()
	c.Name = sc.ID
	c.Seed = uint64(s.Seed)
	c.DurationMs = simSegmentMs
	c.BrowsersPerMin = s.PerMinute
	if s.PassersPerMinute != nil {
		c.PassersPerMin = *s.PassersPerMinute
	}
	if s.AisleMM > 0 {
		c.AisleMM = s.AisleMM
	}
	if v, err := strconv.ParseInt(sc.Params["dwell_min_ms"], 10, 64); err == nil && v > 0 {
		c.DwellMinMs = v
	}
	if v, err := strconv.ParseInt(sc.Params["hold_ms"], 10, 64); err == nil {
		c.PIRHoldMs = max(v, 100) // the simulated module's potentiometer
	}
	c.MaxRangeMM = min(max(rangeMM, 1000), 8000)
	idle := min(c.AisleMM, c.MaxRangeMM)
	c.StandMaxMM = min(c.StandMaxMM, idle-600)
	c.StandMinMM = min(c.StandMinMM, c.StandMaxMM)
	c.LaneMaxMM = min(c.LaneMaxMM, idle-100)
	c.LaneMinMM = min(c.LaneMinMM, c.LaneMaxMM)
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("simulated aisle: %w", err)
	}
	return c, nil
}

func newAisle(sc config.SensorConfig, rangeMM int) (*aisle, error) {
	c, err := shelfSimConfig(sc, rangeMM)
	if err != nil {
		return nil, err
	}
	a := &aisle{base: c, seg: -1}
	a.at(0)
	if a.s == nil {
		return nil, fmt.Errorf("simulated aisle %s could not be built", sc.ID)
	}
	return a, nil
}

// at returns the aisle holding time tMs and tMs within it.
func (a *aisle) at(tMs int64) (*sim.Shelf, int64) {
	tMs = max(tMs, 0)
	seg := tMs / simSegmentMs
	a.mu.Lock()
	defer a.mu.Unlock()
	if seg != a.seg {
		cfg := a.base
		cfg.Seed = a.base.Seed*1_000_003 + uint64(seg)
		s, err := sim.NewShelf(cfg)
		if err != nil {
			return a.s, tMs % simSegmentMs // keep the previous aisle: config was checked at start
		}
		a.s, a.seg = s, seg
	}
	return a.s, tMs % simSegmentMs
}

// simPIRStep is how often a simulated PIR output is updated: finer than
// the driver's debounce (10 ms by default).
const simPIRStep = 5 * time.Millisecond

// openSimShelf puts a simulated aisle in front of an emulated shelf
// sensor, read through the real drivers: a VL53L1X emulator whose scene is
// the aisle, a Sharp GP2Y0A's output voltage on an MCP3008 emulator's
// input, or a PIR module's output on a fake GPIO line.
func openSimShelf(sc config.SensorConfig, env *SourceEnv) (Source, error) {
	start := env.Clock.Now()
	since := func(t time.Time) int64 { return t.Sub(start).Milliseconds() }
	switch {
	case sensor.Kind(sc.Kind) == sensor.KindPIR:
		a, err := newAisle(sc, 4000)
		if err != nil {
			return nil, err
		}
		name := sc.Pins["motion"]
		if name == "" {
			name = "SIM_MOTION"
		}
		pin := pintest.New(name, 0)
		src, err := newPIRSource(pin, sc, env)
		if err != nil {
			return nil, err
		}
		return &simPins{Source: src, pins: []*pintest.Pin{pin}, activeLow: activeLow(sc), start: start, step: simPIRStep,
			active: func(_ int, t int64) bool { s, t := a.at(t); return s.PIRMotion(t) }}, nil
	case sc.ADC != "":
		curve, err := sharpCurve(sc.Sharp)
		if err != nil {
			return nil, err
		}
		if sc.Channel == nil {
			return nil, fmt.Errorf("no MCP3008 channel configured")
		}
		_, far := curve.Range()
		a, err := newAisle(sc, far)
		if err != nil {
			return nil, err
		}
		vref := mcp3008.DefaultOpts.Vref
		if sc.Vref > 0 {
			vref = sc.Vref
		}
		ch := *sc.Channel
		chip := mcp3008test.New(vref, func(in int) float64 {
			if in != ch {
				return 0 // nothing wired to the other inputs
			}
			s, t := a.at(since(time.Now()))
			return sharpVolts(curve, s.ShelfDistance(t))
		})
		return newSharpSource(chip, chip, sc)
	default:
		rangeMM := 4000 // long distance mode
		if sc.DistanceMode == "short" {
			rangeMM = 1300
		}
		a, err := newAisle(sc, rangeMM)
		if err != nil {
			return nil, err
		}
		emu := vl53l1xtest.New(&vl53l1xtest.Options{Name: sc.ID, Scene: func(_ vl53l1xtest.ROI, at time.Time) (int, int) {
			s, t := a.at(since(at))
			d := s.ShelfDistance(t)
			if d < 0 {
				return 0, 2 // signal fail: the driver reports no valid range
			}
			return d, 0
		}})
		opts := presenceOpts(sc, env)
		opts.Interrupt = emu.GPIO1() // wait for data ready on the pin, not by polling over I2C
		return newToFPresence(vl53l1xtest.NewBus(emu), nil, sc, opts)
	}
}

// sharpVolts is a Sharp sensor's typical output with its target mm away
// (-1: no light comes back, as from a dark, oblique surface). Beyond the
// far end of its curve the output keeps falling as 1/distance; nearer than
// the minimum distance it falls again, towards 0, as the datasheets'
// figures show.
func sharpVolts(curve *gp2y0a.Curve, mm int) float64 {
	lo, hi := curve.Range()
	switch {
	case mm <= 0:
		return 0
	case mm > hi:
		v, _ := curve.Voltage(hi)
		return v * float64(hi) / float64(mm)
	case mm < lo:
		v, _ := curve.Voltage(lo)
		return v * float64(mm) / float64(lo)
	}
	v, _ := curve.Voltage(mm)
	return v
}
