package agent

import (
	"context"
	"fmt"
	"io"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/hw"
	"github.com/omo-edge/edge-agent/internal/plate"
)

// plateSource reads a smart plate's field (channel field: 1 a phone's
// field is present, 0 gone) from an NTAG I2C plus, and lets the plate's
// controller rewrite the tag between taps.
type plateSource struct {
	dev    *ntag.Dev
	closer io.Closer // the bus, nil for an emulator
	ctl    *plate.Controller
	fd     gpio.PinIn // nil: poll NS_REG
	poll   time.Duration
	now    func() time.Time
}

// plateTagOpts maps a plate's config onto the NTAG driver's options.
func plateTagOpts(sc config.SensorConfig) ntag.Opts {
	o := ntag.DefaultOpts
	if n := sc.NFC; n != nil && n.Address != 0 {
		o.Addr = n.Address
	}
	return o
}

func platePoll(sc config.SensorConfig) time.Duration {
	if n := sc.NFC; n != nil && n.PollInterval > 0 {
		return n.PollInterval
	}
	return config.DefaultPlatePoll
}

// OpenPlateTag opens the NTAG I2C plus of plate id on its I²C bus, for the
// CLI. close releases the bus.
func OpenPlateTag(cfg *config.Config, id string) (dev *ntag.Dev, close func() error, err error) {
	i, err := plateIndex(cfg, id)
	if err != nil {
		return nil, nil, err
	}
	sc := cfg.Sensors[i]
	if sc.Simulate != nil {
		return nil, nil, fmt.Errorf("plate %s is simulated (simulate: in %s): there is no tag to talk to", id, cfg.File)
	}
	env := &SourceEnv{}
	if err := env.initHost(); err != nil {
		return nil, nil, err
	}
	bus, err := openI2C(sc.NFC.Bus)
	if err != nil {
		return nil, nil, err
	}
	o := plateTagOpts(sc)
	dev, err = ntag.New(bus, &o)
	if err != nil {
		bus.Close()
		return nil, nil, fmt.Errorf("NTAG I2C plus of plate %s on bus %s: %w", id, sc.NFC.Bus, err)
	}
	return dev, func() error { dev.Halt(); return bus.Close() }, nil
}

func openI2C(name string) (i2c.BusCloser, error) {
	return hw.OpenI2C(name)
}

// openPlateHW opens a plate on real hardware.
func (a *Agent) openPlateHW(sc config.SensorConfig, env *SourceEnv) (Source, error) {
	ctl := a.nfc.plates[sc.ID]
	if err := env.initHost(); err != nil {
		return nil, err
	}
	fd, err := inPin(sc.NFC.FDPin)
	if err != nil {
		return nil, err
	}
	bus, err := openI2C(sc.NFC.Bus)
	if err != nil {
		return nil, err
	}
	return newPlateSource(bus, bus, fd, ctl, sc, env)
}

func newPlateSource(bus i2c.Bus, closer io.Closer, fd gpio.PinIn, ctl *plate.Controller, sc config.SensorConfig, env *SourceEnv) (*plateSource, error) {
	o := plateTagOpts(sc)
	o.FD = fd
	dev, err := ntag.New(bus, &o)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("NTAG I2C plus on %s: %w", bus, err)
	}
	if fd != nil {
		// The driver waits for a field on the falling edge; the source
		// also wants to see it go.
		if err := fd.In(gpio.PullUp, gpio.BothEdges); err != nil {
			if closer != nil {
				closer.Close()
			}
			return nil, fmt.Errorf("FD pin %s: %w", fd, err)
		}
	}
	return &plateSource{dev: dev, closer: closer, ctl: ctl, fd: fd, poll: platePoll(sc), now: env.Clock.Now}, nil
}

// fdWait bounds a wait for an FD edge, so that the controller's quiet-time
// writes and ctx are looked at.
const fdWait = 50 * time.Millisecond

func (s *plateSource) field() (bool, error) {
	if s.fd != nil {
		return s.fd.Read() == gpio.Low, nil // open drain, low while a field is present
	}
	return s.dev.FieldPresent()
}

func (s *plateSource) Run(ctx context.Context, emit Emit) error {
	s.ctl.Attach(s.dev)
	defer s.ctl.Detach()
	on, err := s.field()
	if err != nil {
		return err
	}
	now := s.now()
	emit(0, b2i(on), nil, now)
	if err := s.ctl.Service(now, on); err != nil {
		return err
	}
	var tick *time.Ticker
	if s.fd == nil {
		tick = time.NewTicker(s.poll)
		defer tick.Stop()
	}
	for {
		if s.fd != nil {
			s.fd.WaitForEdge(fdWait)
			if ctx.Err() != nil {
				return nil
			}
		} else {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
		cur, err := s.field()
		if err != nil {
			return err
		}
		now := s.now()
		if cur != on {
			on = cur
			emit(0, b2i(on), nil, now)
		}
		if err := s.ctl.Service(now, on); err != nil {
			return err
		}
	}
}

func (s *plateSource) Close() error {
	err := s.dev.Halt()
	if s.closer != nil {
		s.closer.Close()
	}
	return err
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
