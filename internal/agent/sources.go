package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/host/v3"

	"github.com/omo-edge/edge-agent/drivers/people-counter/beam"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pulse"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/hw"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// SourceEnv is what sources share: the logger and the agent's clock.
type SourceEnv struct {
	Log    *slog.Logger
	Clock  Clock
	Origin time.Time

	// XShut names every XSHUT pin of the configured VL53L1X sensors. Several
	// sensors share a bus only if each is woken alone and moved to its own
	// address before the next: so all are held in reset once, and their
	// initialisations run one at a time.
	XShut []string

	hostOnce  sync.Once
	hostErr   error
	resetOnce sync.Once
	tofBoot   sync.Mutex
}

// bootToF holds every VL53L1X in reset (once per process) and serialises
// sensor initialisation; call the returned func when New has returned.
func (e *SourceEnv) bootToF() (release func()) {
	e.resetOnce.Do(func() {
		var pins []gpio.PinOut
		for _, name := range e.XShut {
			if p, err := outPin(name); err == nil && p != nil {
				pins = append(pins, p)
			}
		}
		if len(pins) > 0 {
			if err := vl53l1x.ResetAll(pins...); err != nil && e.Log != nil {
				e.Log.Warn("VL53L1X XSHUT reset failed", "err", err)
			}
		}
	})
	e.tofBoot.Lock()
	return e.tofBoot.Unlock
}

// initHost loads periph's host drivers once (sysfs/cdev GPIO, I2C, SPI).
func (e *SourceEnv) initHost() error {
	e.hostOnce.Do(func() { _, e.hostErr = host.Init() })
	if e.hostErr != nil {
		return fmt.Errorf("periph host init: %w", e.hostErr)
	}
	return nil
}

// openSource builds the source of a configured sensor: its real driver on
// real hardware, or the same driver on an emulated chip for simulate:.
func openSource(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
	if sc.Simulate != nil {
		return openSimSource(sc, env)
	}
	if err := env.initHost(); err != nil {
		return nil, err
	}
	switch sensor.Kind(sc.Kind) {
	case sensor.KindToF2Zone:
		opts, err := tofOpts(sc, env)
		if err != nil {
			return nil, err
		}
		bus, err := openToFBus(sc, &opts)
		if err != nil {
			return nil, err
		}
		defer env.bootToF()()
		return newToF2Zone(bus, bus, sc, opts)
	case sensor.KindBeamPair:
		a, err := inPin(sc.Pins["a"])
		if err != nil {
			return nil, err
		}
		b, err := inPin(sc.Pins["b"])
		if err != nil {
			return nil, err
		}
		return newBeamSource(a, b, sc, env)
	case sensor.KindPulse:
		lines := map[string]gpio.PinIn{}
		for ch, name := range sc.Pins {
			p, err := inPin(name)
			if err != nil {
				return nil, err
			}
			lines[ch] = p
		}
		return newPulseSource(lines, sc, env)
	case sensor.KindToFPresence:
		if sc.ADC != "" {
			port, err := hw.OpenSPI(sc.SPI)
			if err != nil {
				return nil, err
			}
			return newSharpSource(port, port, sc)
		}
		opts := presenceOpts(sc, env)
		bus, err := openToFBus(sc, &opts)
		if err != nil {
			return nil, err
		}
		defer env.bootToF()()
		return newToFPresence(bus, bus, sc, opts)
	case sensor.KindPIR:
		p, err := inPin(sc.Pins["motion"])
		if err != nil {
			return nil, err
		}
		return newPIRSource(p, sc, env)
	}
	return nil, fmt.Errorf("kind %s is not supported by the daemon yet", sc.Kind)
}

// openToFBus opens a VL53L1X's I2C bus and its optional XSHUT and GPIO1
// pins into opts.
func openToFBus(sc config.SensorConfig, opts *vl53l1x.Opts) (i2c.BusCloser, error) {
	bus, err := hw.OpenI2C(sc.Bus)
	if err != nil {
		return nil, err
	}
	if opts.XShut, err = outPin(sc.XShut); err == nil {
		opts.Interrupt, err = inPin(sc.Interrupt)
	}
	if err != nil {
		bus.Close()
		return nil, err
	}
	return bus, nil
}

func inPin(name string) (gpio.PinIn, error) {
	if name == "" {
		return nil, nil
	}
	return hw.Pin(name)
}

func outPin(name string) (gpio.PinOut, error) {
	p, err := inPin(name)
	if p == nil || err != nil {
		return nil, err
	}
	return p.(gpio.PinIO), nil
}

// tofOpts maps a sensor's config onto the VL53L1X driver's options.
func tofOpts(sc config.SensorConfig, env *SourceEnv) (vl53l1x.Opts, error) {
	o := vl53l1x.DefaultOpts
	if sc.Address != 0 {
		o.NewAddr = sc.Address
	}
	switch strings.ToLower(sc.DistanceMode) {
	case "short":
		o.DistanceMode = vl53l1x.Short
	case "", "long":
		o.DistanceMode = vl53l1x.Long
	}
	o.TimingBudget = 20 * time.Millisecond // two zones alternate: keep each fast
	if sc.TimingBudget > 0 {
		o.TimingBudget = sc.TimingBudget
	}
	o.InterMeasurement = o.TimingBudget
	o.Now = env.Clock.Now
	return o, nil
}

// roiOf returns the two zones of a door sensor: z0 street side, z1 store
// side (Roode's defaults for a sensor mounted across the doorway).
func roiOf(sc config.SensorConfig) (w, h int, z0, z1 uint8) {
	w, h, z0, z1 = 8, 16, 167, 231
	if sc.ROI.Width != 0 {
		w, h = sc.ROI.Width, sc.ROI.Height
	}
	if sc.ROI.Z0Center != 0 {
		z0 = sc.ROI.Z0Center
	}
	if sc.ROI.Z1Center != 0 {
		z1 = sc.ROI.Z1Center
	}
	return
}

// tof2Zone alternates the VL53L1X between the two zones and reports each
// ranging on its zone's channel (-1 for no valid range).
type tof2Zone struct {
	dev    *vl53l1x.Dev
	closer interface{ Close() error }
	w, h   int
	zones  [2]uint8
}

func newToF2Zone(bus i2c.Bus, closer interface{ Close() error }, sc config.SensorConfig, opts vl53l1x.Opts) (*tof2Zone, error) {
	dev, err := vl53l1x.New(bus, &opts)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("VL53L1X on bus %s: %w", sc.Bus, err)
	}
	w, h, z0, z1 := roiOf(sc)
	return &tof2Zone{dev: dev, closer: closer, w: w, h: h, zones: [2]uint8{z0, z1}}, nil
}

func (s *tof2Zone) Run(ctx context.Context, emit Emit) error {
	if err := s.dev.SetROI(s.w, s.h, s.zones[0]); err != nil {
		return err
	}
	if err := s.dev.StartRanging(); err != nil {
		return err
	}
	defer s.dev.StopRanging()
	for z := 0; ctx.Err() == nil; z ^= 1 {
		if err := s.dev.SetROI(s.w, s.h, s.zones[z]); err != nil {
			return err
		}
		r, err := s.dev.Read()
		if err != nil {
			return err
		}
		d := int64(r.DistanceMM)
		if !r.Valid() {
			d = -1
		}
		emit(z, d, nil, time.Now())
	}
	return nil
}

func (s *tof2Zone) Close() error {
	err := s.dev.Halt()
	if s.closer != nil {
		s.closer.Close()
	}
	return err
}

// closableSource is a Source holding hardware that Close releases.
type closableSource interface {
	Source
	Close() error
}

// changeSource runs a driver that hands out one change at a time (beams,
// pulse lines, a PIR) and turns each into trace-v1 readings.
type changeSource[C any] struct {
	next    func(context.Context) (C, error)
	readout func(C, Emit)
	halt    func() error
}

func (s *changeSource[C]) Run(ctx context.Context, emit Emit) error {
	for {
		c, err := s.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.readout(c, emit)
	}
}

func (s *changeSource[C]) Close() error { return s.halt() }

func level(on bool) int64 {
	if on {
		return 1
	}
	return 0
}

// newBeamSource reports debounced beam changes: a=0, b=1; 1 blocked, 0 clear.
func newBeamSource(a, b gpio.PinIn, sc config.SensorConfig, env *SourceEnv) (closableSource, error) {
	o := beam.DefaultOpts
	o.Pull = pullOf(sc.Pull, o.Pull)
	if sc.ActiveLow != nil {
		o.ActiveLow = *sc.ActiveLow
	}
	if sc.Debounce > 0 {
		o.Debounce = sc.Debounce
	}
	o.Now = env.Clock.Now
	dev, err := beam.New(a, b, &o)
	if err != nil {
		return nil, fmt.Errorf("beam pair on %s/%s: %w", sc.Pins["a"], sc.Pins["b"], err)
	}
	return &changeSource[beam.Change]{next: dev.Next, halt: dev.Halt,
		readout: func(c beam.Change, emit Emit) { emit(c.Beam, level(c.Blocked), nil, c.At) }}, nil
}

// newPulseSource turns a counter's pulses into trace-v1 levels: 1 at the
// pulse's start, 0 at its end, on the line's channel.
func newPulseSource(lines map[string]gpio.PinIn, sc config.SensorConfig, env *SourceEnv) (closableSource, error) {
	o := pulse.DefaultOpts
	o.Pull = pullOf(sc.Pull, o.Pull)
	if sc.ActiveLow != nil {
		o.ActiveLow = *sc.ActiveLow
	}
	if sc.MinPulse > 0 {
		o.MinPulse = sc.MinPulse
	}
	if sc.Debounce > 0 {
		o.Debounce = sc.Debounce
	}
	o.Now = env.Clock.Now
	dev, err := pulse.New(lines, &o)
	if err != nil {
		return nil, fmt.Errorf("pulse lines %v: %w", sc.Pins, err)
	}
	return &changeSource[pulse.Pulse]{next: dev.Next, halt: dev.Halt,
		readout: func(p pulse.Pulse, emit Emit) {
			ch := sensor.KindPulse.Channel(p.Line)
			emit(ch, 1, nil, p.Start)
			emit(ch, 0, nil, p.End)
		}}, nil
}

func pullOf(s string, def gpio.Pull) gpio.Pull {
	switch s {
	case "up":
		return gpio.PullUp
	case "down":
		return gpio.PullDown
	case "none":
		return gpio.Float
	}
	return def
}
