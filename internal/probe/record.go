package probe

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// Recorder keeps the bus traffic of a probe (periph's i2ctest.Record and
// spitest.Record around each bus) for a support ticket. Transactions that
// failed (a NAK) are not kept: the scan's list of answering addresses says
// which ones did. Lines read are in the report itself.
type Recorder struct {
	mu   sync.Mutex
	logs []recorded
}

type recorded struct {
	label string
	i2c   *i2ctest.Record
	spi   *spitest.Record
}

// Wrap returns hw with every bus and port it opens recorded under prefix.
func (r *Recorder) Wrap(prefix string, hw Hardware) Hardware {
	return &recording{r: r, prefix: prefix, hw: hw, i2c: map[string]i2c.Bus{}, spi: map[string]spi.Port{}}
}

type recording struct {
	r      *Recorder
	prefix string
	hw     Hardware
	mu     sync.Mutex
	i2c    map[string]i2c.Bus
	spi    map[string]spi.Port
}

func (h *recording) I2C(name string) (i2c.Bus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.i2c[name]; ok {
		return b, nil
	}
	b, err := h.hw.I2C(name)
	if err != nil {
		return nil, err
	}
	rec := &i2ctest.Record{Bus: b}
	h.i2c[name] = rec
	h.r.add(recorded{label: h.prefix + "I2C " + busName(name), i2c: rec})
	return rec, nil
}

func (h *recording) SPI(name string) (spi.Port, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.spi[name]; ok {
		return p, nil
	}
	p, err := h.hw.SPI(name)
	if err != nil {
		return nil, err
	}
	pc, ok := p.(spi.PortCloser)
	if !ok {
		pc = nopCloser{p}
	}
	rec := &spitest.Record{Port: pc}
	h.spi[name] = rec
	h.r.add(recorded{label: h.prefix + "SPI " + busName(name), spi: rec})
	return rec, nil
}

func (h *recording) Pin(name string) (gpio.PinIn, error) { return h.hw.Pin(name) }

// nopCloser lets a port that cannot be closed be recorded; the Hardware
// that opened it closes it.
type nopCloser struct{ spi.Port }

func (nopCloser) Close() error                      { return nil }
func (nopCloser) LimitSpeed(physic.Frequency) error { return nil }

func (r *Recorder) add(l recorded) {
	r.mu.Lock()
	r.logs = append(r.logs, l)
	r.mu.Unlock()
}

// WriteTo writes the traffic as text: one section per bus, one line per
// transaction, bytes in hex ("0x29 W 01 0f R ea cc").
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	b.WriteString("# edge-agent probe: bus traffic (W written, R read; failed transactions are not kept)\n")
	for _, l := range r.logs {
		fmt.Fprintf(&b, "== %s\n", l.label)
		switch {
		case l.i2c != nil:
			l.i2c.Lock()
			for _, op := range l.i2c.Ops {
				fmt.Fprintf(&b, "%#02x%s\n", op.Addr, hexOps(op.W, op.R))
			}
			l.i2c.Unlock()
		case l.spi != nil:
			l.spi.Lock()
			ops := append([]conntest.IO(nil), l.spi.Ops...)
			l.spi.Unlock()
			for _, op := range ops {
				fmt.Fprintf(&b, "%s\n", strings.TrimSpace(hexOps(op.W, op.R)))
			}
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func hexOps(w, r []byte) string {
	var b strings.Builder
	if len(w) > 0 {
		fmt.Fprintf(&b, " W % x", w)
	}
	if len(r) > 0 {
		fmt.Fprintf(&b, " R % x", r)
	}
	return b.String()
}

func busName(name string) string {
	if name == "" {
		return "(none)"
	}
	return name
}
