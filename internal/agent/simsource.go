package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

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
		return &simPins{Source: src, pins: pins, activeLow: activeLow(sc), start: start, crowd: cr,
			active: func(w *sim.World, ch int, t int64) bool { return w.BeamBlocked(ch, t) }}, nil
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
		return &simPins{Source: src, pins: pins, activeLow: activeLow(sc), start: start, crowd: cr,
			active: func(w *sim.World, ch int, t int64) bool { return w.PulseActive(ch, t) }}, nil
	}
	return nil, fmt.Errorf("kind %s cannot be simulated yet", sc.Kind)
}

func activeLow(sc config.SensorConfig) bool {
	if sc.ActiveLow != nil {
		return *sc.ActiveLow
	}
	return true // the drivers' default: open-collector outputs pulled up
}

// simPins drives fake GPIO lines from the simulated crowd while the real
// driver reads them.
type simPins struct {
	Source
	pins      []*pintest.Pin
	activeLow bool
	start     time.Time
	crowd     *crowd
	active    func(w *sim.World, ch int, t int64) bool
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
		t := time.NewTicker(simPinStep)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				w, ms := s.crowd.at(now.Sub(s.start).Milliseconds())
				for ch, p := range s.pins {
					p.Set(s.level(s.active(w, ch, ms)))
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
