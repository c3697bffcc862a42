package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/omo-edge/edge-agent/drivers/people-counter/gp2y0a"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pir"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/internal/config"
)

// Shelf sensors: a distance sensor on the shelf looking across the aisle
// (kind tof-presence: a VL53L1X in single-zone mode, or a Sharp GP2Y0A on an
// MCP3008 input) and a PIR module (kind pir). They deliver trace-v1
// readings: tof-presence a distance in mm on channel d (-1 = no valid
// range), pir the output's changes on channel motion (1 rise, 0 fall).

// presenceOpts maps a tof-presence sensor's config onto the VL53L1X
// driver's options: one measurement every sample_every (default 100 ms,
// what the presence detector's defaults assume), each of timing_budget
// (default 50 ms).
func presenceOpts(sc config.SensorConfig, env *SourceEnv) vl53l1x.Opts {
	o := vl53l1x.DefaultOpts
	if sc.Address != 0 {
		o.NewAddr = sc.Address
	}
	o.DistanceMode = vl53l1x.Long
	if strings.ToLower(sc.DistanceMode) == "short" {
		o.DistanceMode = vl53l1x.Short
	}
	o.TimingBudget = config.DefaultPresenceBudget
	if sc.TimingBudget > 0 {
		o.TimingBudget = sc.TimingBudget
	}
	o.InterMeasurement = max(config.DefaultPresenceEvery, o.TimingBudget)
	if sc.SampleEvery > 0 {
		o.InterMeasurement = max(sc.SampleEvery, o.TimingBudget)
	}
	o.Now = env.Clock.Now
	return o
}

// presenceROI is a presence sensor's single zone: the whole 16x16 SPAD
// array around the optical centre (SPAD 199) unless configured, the widest
// view of the aisle.
func presenceROI(sc config.SensorConfig) (w, h int, center uint8) {
	w, h, center = 16, 16, 199
	if sc.ROI.Width != 0 {
		w, h = sc.ROI.Width, sc.ROI.Height
	}
	if sc.ROI.Center != 0 {
		center = sc.ROI.Center
	}
	return
}

// tofPresence ranges one zone continuously: one reading per measurement on
// channel d, -1 when the range status is not valid.
type tofPresence struct {
	dev    *vl53l1x.Dev
	closer interface{ Close() error }
	w, h   int
	center uint8
}

func newToFPresence(bus i2c.Bus, closer interface{ Close() error }, sc config.SensorConfig, opts vl53l1x.Opts) (*tofPresence, error) {
	dev, err := vl53l1x.New(bus, &opts)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("VL53L1X on bus %s: %w", sc.Bus, err)
	}
	w, h, c := presenceROI(sc)
	return &tofPresence{dev: dev, closer: closer, w: w, h: h, center: c}, nil
}

func (s *tofPresence) Run(ctx context.Context, emit Emit) error {
	if err := s.dev.SetROI(s.w, s.h, s.center); err != nil {
		return err
	}
	if err := s.dev.StartRanging(); err != nil {
		return err
	}
	defer s.dev.StopRanging()
	for ctx.Err() == nil {
		r, err := s.dev.Read()
		if err != nil {
			return err
		}
		d := int64(r.DistanceMM)
		if !r.Valid() {
			d = -1
		}
		emit(0, d, nil, time.Now())
	}
	return nil
}

func (s *tofPresence) Close() error {
	err := s.dev.Halt()
	if s.closer != nil {
		s.closer.Close()
	}
	return err
}

// sharpCurve returns the datasheet curve of a Sharp model named in the
// config ("" = GP2Y0A21YK0F).
func sharpCurve(model string) (*gp2y0a.Curve, error) {
	switch strings.ToLower(model) {
	case "", "gp2y0a21yk0f":
		return gp2y0a.GP2Y0A21YK0F(), nil
	case "gp2y0a02yk0f":
		return gp2y0a.GP2Y0A02YK0F(), nil
	}
	return nil, fmt.Errorf("sharp %q: want gp2y0a21yk0f or gp2y0a02yk0f", model)
}

// sharpSamples is how many conversions one reading takes: their median
// rejects a spike from the sensor's LED current pulses.
const sharpSamples = 3

// sharpSource converts a Sharp GP2Y0A's output on an MCP3008 input every
// sample_every.
//
// An output below the far end of the curve means nothing is nearer than
// that end: for a sensor looking across an aisle it is the idle reading,
// so it is reported as the far end's distance (a sensor whose range stops
// short of the far side reads its maximum range when nobody is there, as
// the presence detector expects). Reporting it as -1 instead would leave
// the detector blind whenever the aisle is empty: it could not learn its
// baseline, and two shoppers one after the other would merge. An output
// above the curve (something closer than the minimum distance, where the
// output is ambiguous) is -1.
type sharpSource struct {
	dev    *gp2y0a.Dev
	closer interface{ Close() error }
	every  time.Duration
	farMM  int64
}

func newSharpSource(port spi.Port, closer interface{ Close() error }, sc config.SensorConfig) (*sharpSource, error) {
	fail := func(err error) (*sharpSource, error) {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	curve, err := sharpCurve(sc.Sharp)
	if err != nil {
		return fail(err)
	}
	if sc.Channel == nil {
		return fail(errors.New("no MCP3008 channel configured"))
	}
	ao := mcp3008.DefaultOpts
	if sc.Vref > 0 {
		ao.Vref = sc.Vref
	}
	adc, err := mcp3008.New(port, &ao)
	if err != nil {
		return fail(fmt.Errorf("MCP3008 on %s: %w", port, err))
	}
	dev, err := gp2y0a.New(adc, *sc.Channel, &gp2y0a.Opts{Curve: curve, Vref: ao.Vref, FullScale: mcp3008.MaxCode + 1, Samples: sharpSamples})
	if err != nil {
		return fail(err)
	}
	every := config.DefaultSharpEvery
	if sc.SampleEvery > 0 {
		every = sc.SampleEvery
	}
	_, far := curve.Range()
	return &sharpSource{dev: dev, closer: closer, every: every, farMM: int64(far)}, nil
}

// read takes one reading: a distance in mm or -1.
func (s *sharpSource) read() (int64, error) {
	r, err := s.dev.Read()
	if err != nil {
		return -1, err
	}
	switch r.Status {
	case gp2y0a.OK:
		return int64(r.DistanceMM), nil
	case gp2y0a.TooFar:
		return s.farMM, nil
	}
	return -1, nil
}

func (s *sharpSource) Run(ctx context.Context, emit Emit) error {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		at := time.Now()
		d, err := s.read()
		if err != nil {
			return err
		}
		emit(0, d, nil, at)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *sharpSource) Close() error {
	err := s.dev.Halt()
	if s.closer != nil {
		s.closer.Close()
	}
	return err
}

// newPIRSource reports a PIR module's output as trace-v1 motion changes: 1 at
// a rise (the first motion), 0 at the fall, each at its own time. The pir
// detector takes hold_ms off each fall itself, so the fall's time is sent
// as it is, not the driver's LastMotion estimate.
func newPIRSource(p gpio.PinIn, sc config.SensorConfig, env *SourceEnv) (closableSource, error) {
	o := pir.DefaultOpts
	o.Pull = pullOf(sc.Pull, o.Pull)
	if sc.ActiveLow != nil {
		o.ActiveLow = *sc.ActiveLow
	}
	if sc.Debounce > 0 {
		o.Debounce = sc.Debounce
	}
	// The module's hold time, as the detector is told it.
	if ms, err := strconv.ParseInt(sc.Params["hold_ms"], 10, 64); err == nil && ms > 0 {
		o.Hold = time.Duration(ms) * time.Millisecond
	}
	o.Now = env.Clock.Now
	dev, err := pir.New(p, &o)
	if err != nil {
		return nil, fmt.Errorf("PIR on %s: %w", sc.Pins["motion"], err)
	}
	return &changeSource[pir.Change]{next: dev.Next, halt: dev.Halt,
		readout: func(c pir.Change, emit Emit) { emit(0, level(c.Motion), nil, c.At) }}, nil
}
