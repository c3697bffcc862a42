package probe

import (
	"fmt"
	"io"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/host/v3"

	"github.com/omo-edge/edge-agent/internal/hw"
)

// Host is the machine's hardware through periph: each bus and port is
// opened once and closed by Close.
type Host struct {
	once    sync.Once
	initErr error
	mu      sync.Mutex
	i2c     map[string]i2c.BusCloser
	spi     map[string]spi.PortCloser
}

func (h *Host) init() error {
	h.once.Do(func() {
		if _, err := host.Init(); err != nil {
			h.initErr = fmt.Errorf("periph host init: %w", err)
		}
		h.i2c = map[string]i2c.BusCloser{}
		h.spi = map[string]spi.PortCloser{}
	})
	return h.initErr
}

// I2C opens I²C bus name ("1" or "/dev/i2c-1").
func (h *Host) I2C(name string) (i2c.Bus, error) {
	if err := h.init(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.i2c[name]; ok {
		return b, nil
	}
	b, err := hw.OpenI2C(name)
	if err != nil {
		return nil, err
	}
	h.i2c[name] = b
	return b, nil
}

// SPI opens SPI port name ("/dev/spidev0.0" or "SPI0.0").
func (h *Host) SPI(name string) (spi.Port, error) {
	if err := h.init(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.spi[name]; ok {
		return p, nil
	}
	p, err := hw.OpenSPI(name)
	if err != nil {
		return nil, err
	}
	h.spi[name] = p
	return p, nil
}

// Pin returns GPIO line name ("GPIO17").
func (h *Host) Pin(name string) (gpio.PinIn, error) {
	if err := h.init(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("no GPIO configured")
	}
	return hw.Pin(name)
}

// Close closes every bus and port opened.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first error
	for _, c := range h.i2c {
		first = keep(first, c)
	}
	for _, c := range h.spi {
		first = keep(first, c)
	}
	h.i2c, h.spi = map[string]i2c.BusCloser{}, map[string]spi.PortCloser{}
	return first
}

func keep(first error, c io.Closer) error {
	if err := c.Close(); err != nil && first == nil {
		return err
	}
	return first
}
