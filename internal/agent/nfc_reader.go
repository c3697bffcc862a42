package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/omo-edge/edge-agent/drivers/nfc/pn532"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/hw"
	"github.com/omo-edge/edge-agent/internal/pseudo"
)

// readerSource polls a PN532 for member cards and phones and emits one
// token reading per successful poll. The token is the pseudonym of the
// card's UID (or FeliCa IDm) or of the token a phone's store app hands over
// on SELECT AID: the raw value never leaves Run.
type readerSource struct {
	dev    *pn532.Dev
	closer io.Closer
	ps     *pseudo.Pseudonymizer
	aid    []byte
	felica bool
	every  time.Duration
	now    func() time.Time
}

// readerOpts maps a reader's config onto the PN532 driver's options.
func readerOpts(sc config.SensorConfig, irq gpio.PinIn) *pn532.Opts {
	o := pn532.DefaultOpts
	if n := sc.NFC; n != nil && n.Address != 0 {
		o.Addr = n.Address
	}
	o.IRQ = irq
	return &o
}

// openReaderHW opens a PN532 reader on real hardware: I²C or SPI.
func (a *Agent) openReaderHW(sc config.SensorConfig, env *SourceEnv) (Source, error) {
	if err := env.initHost(); err != nil {
		return nil, err
	}
	n := sc.NFC
	irq, err := inPin(n.IRQPin)
	if err != nil {
		return nil, err
	}
	if n.SPI != "" {
		port, err := hw.OpenSPI(n.SPI)
		if err != nil {
			return nil, err
		}
		return a.newReaderSource(nil, port, port, irq, sc, env)
	}
	bus, err := openI2C(n.Bus)
	if err != nil {
		return nil, err
	}
	return a.newReaderSource(bus, nil, bus, irq, sc, env)
}

// newReaderSource opens the PN532 on bus (I²C) or, when bus is nil, port.
func (a *Agent) newReaderSource(bus i2c.Bus, port spi.Port, closer io.Closer, irq gpio.PinIn, sc config.SensorConfig, env *SourceEnv) (*readerSource, error) {
	o := readerOpts(sc, irq)
	var dev *pn532.Dev
	var err error
	if bus != nil {
		dev, err = pn532.NewI2C(bus, o)
	} else {
		dev, err = pn532.NewSPI(port, o)
	}
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("PN532: %w", err)
	}
	every := config.DefaultReaderPoll
	felica := false
	if n := sc.NFC; n != nil {
		if n.PollInterval > 0 {
			every = n.PollInterval
		}
		felica = n.FeliCa
	}
	return &readerSource{dev: dev, closer: closer, ps: a.nfc.ps, aid: sc.NFC.AIDBytes(), felica: felica, every: every,
		now: env.Clock.Now}, nil
}

// maxReaderErrors is how many polls in a row may fail (noise on the bus, a
// card leaving mid-exchange) before the source gives up and the agent
// reopens the chip.
const maxReaderErrors = 5

func (s *readerSource) Run(ctx context.Context, emit Emit) error {
	t := time.NewTicker(s.every)
	defer t.Stop()
	fails := 0
	for {
		tok, err := s.poll()
		switch {
		case err != nil:
			fails++
			if fails >= maxReaderErrors {
				return err // names no UID or token: the driver's errors never do
			}
		case tok != nil:
			fails = 0
			emit(0, 0, tok, s.now())
		default:
			fails = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// poll lists one target and returns the pseudonym of what identifies its
// holder, or nil when nobody is there (or a phone without the store app).
func (s *readerSource) poll() ([]byte, error) {
	t, err := s.dev.InListPassiveTarget(pn532.TypeA106, nil)
	if errors.Is(err, pn532.ErrNoTarget) && s.felica {
		t, err = s.dev.InListPassiveTarget(pn532.FeliCa212, nil)
	}
	if errors.Is(err, pn532.ErrNoTarget) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	raw := t.ID()
	defer clear(raw)
	if t.ISODEP() {
		tok, err := s.dev.SelectAID(s.aid)
		_ = s.dev.InRelease(t.Tg) // end the ISO-DEP session either way
		defer clear(tok)
		var apdu *pn532.APDUError
		var st *pn532.StatusError
		switch {
		case err == nil && len(tok) > 0:
			return s.ps.Token(tok), nil
		case err == nil, errors.As(err, &apdu), errors.As(err, &st):
			// Not the store app: a card with its own UID counts by it; a
			// phone's UID is random per tap (UID0 = 08h, ISO/IEC 14443-3)
			// and would count every tap as a new member.
			if len(raw) == 4 && raw[0] == 0x08 {
				return nil, nil
			}
		default:
			return nil, err
		}
	}
	return s.ps.Token(raw), nil
}

func (s *readerSource) Close() error {
	err := s.dev.Halt()
	if s.closer != nil {
		s.closer.Close()
	}
	return err
}
