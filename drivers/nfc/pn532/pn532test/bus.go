package pn532test

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
	"periph.io/x/conn/v3/spi"
)

// I2C returns a fake I²C bus with the emulator at its address.
func (e *Emulator) I2C() *I2CBus { return &I2CBus{e: e} }

// I2CBus implements i2c.BusCloser.
type I2CBus struct{ e *Emulator }

func (b *I2CBus) String() string { return "pn532test-i2c" }

// SetSpeed implements i2c.Bus; the PN532 runs up to 400 kHz.
func (b *I2CBus) SetSpeed(f physic.Frequency) error {
	if f > 400*physic.KiloHertz {
		return fmt.Errorf("pn532test: I2C speed %s above the PN532's 400kHz", f)
	}
	return nil
}

// Close implements i2c.BusCloser.
func (b *I2CBus) Close() error { return nil }

// Tx implements i2c.Bus: a write carries a frame; a read returns the status
// byte, then (reads longer than 1 byte, when ready) the pending frame.
func (b *I2CBus) Tx(addr uint16, w, r []byte) error {
	e := b.e
	if addr != e.o.Addr {
		return fmt.Errorf("%w: %#02x", errNoDevice, addr)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	e.stats.Transactions++
	if !e.touch(wakeI2C, now) {
		if len(w) > 0 {
			e.stats.Ignored++ // a frame sent to a sleeping chip is lost
		}
		clear(r) // asleep or waking: nothing taken, status 0
		return nil
	}
	if len(w) > 0 {
		e.hostWrite(w, now)
	}
	if len(r) == 0 {
		return nil
	}
	rdy := e.ready(now)
	if len(r) == 1 {
		e.stats.StatusPolls++
	}
	if !rdy {
		if len(r) > 1 {
			e.stats.LongReadsNotReady++
		}
		clear(r)
		return nil
	}
	r[0] = 0x01
	if len(r) > 1 {
		e.take(r[1:])
	}
	return nil
}

// SPI returns a fake SPI port with the emulator on it.
func (e *Emulator) SPI() *SPIPort { return &SPIPort{e: e} }

// SPIPort implements spi.PortCloser.
type SPIPort struct{ e *Emulator }

func (p *SPIPort) String() string { return "pn532test-spi" }

// Close implements spi.PortCloser.
func (p *SPIPort) Close() error { return nil }

// LimitSpeed implements spi.PortCloser.
func (p *SPIPort) LimitSpeed(f physic.Frequency) error { return nil }

// Connect implements spi.Port. The PN532 C106 only does mode 0, 8 bits, up
// to 5 MHz. With spi.LSBFirst the host's controller orders the bits itself
// and the bytes seen here are not reversed.
func (p *SPIPort) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	if mode&^(spi.LSBFirst|spi.NoCS) != spi.Mode0 {
		return nil, fmt.Errorf("pn532test: SPI mode %s, the PN532 needs Mode0", mode)
	}
	if bits != 8 {
		return nil, fmt.Errorf("pn532test: %d bits per word, the PN532 needs 8", bits)
	}
	if f > 5*physic.MegaHertz {
		return nil, fmt.Errorf("pn532test: SPI clock %s above the PN532's 5MHz", f)
	}
	return &spiConn{e: p.e, lsb: mode&spi.LSBFirst != 0}, nil
}

type spiConn struct {
	e   *Emulator
	lsb bool // host orders bits LSB first itself
}

func (c *spiConn) String() string      { return "pn532test-spi" }
func (c *spiConn) Duplex() conn.Duplex { return conn.Full }
func (c *spiConn) TxPackets(p []spi.Packet) error {
	for _, pk := range p {
		if err := c.Tx(pk.W, pk.R); err != nil {
			return err
		}
	}
	return nil
}

// Tx implements conn.Conn: one transfer with NSS low. The first byte is the
// DW/SR/DR prefix.
func (c *spiConn) Tx(w, r []byte) error {
	e := c.e
	if len(r) != 0 && len(w) != 0 && len(r) != len(w) {
		return fmt.Errorf("pn532test: full duplex transfer with %d bytes out and %d in", len(w), len(r))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	e.stats.Transactions++
	clear(r)
	if len(w) == 0 {
		return nil
	}
	if !e.touch(wakeSPI, now) {
		if c.wire(w[0]) == 0x01 {
			e.stats.Ignored++ // a frame sent to a sleeping chip is lost
		}
		return nil
	}
	in := make([]byte, len(w))
	for i, b := range w {
		in[i] = c.wire(b)
	}
	switch in[0] {
	case 0x01: // DW
		e.hostWrite(in[1:], now)
	case 0x02: // SR
		e.stats.StatusPolls++
		if len(r) > 1 && e.ready(now) {
			r[1] = c.wire(0x01)
		}
	case 0x03: // DR
		if len(r) > 1 && e.ready(now) {
			e.take(r[1:])
			for i := 1; i < len(r); i++ {
				r[i] = c.wire(r[i])
			}
		}
	}
	return nil
}

// wire converts between the PN532's LSB-first byte and what an MSB-first
// host controller shifts.
func (c *spiConn) wire(b byte) byte {
	if c.lsb {
		return b
	}
	var o byte
	for i := 0; i < 8; i++ {
		o = o<<1 | b>>i&1
	}
	return o
}

// IRQ returns the chip's P70_IRQ output: low while a frame is ready for the
// host and SAMConfiguration enabled the IRQ, high otherwise.
func (e *Emulator) IRQ() gpio.PinIn { return &irqPin{e: e} }

type irqPin struct{ e *Emulator }

func (p *irqPin) String() string             { return "pn532test-P70_IRQ" }
func (p *irqPin) Halt() error                { return nil }
func (p *irqPin) Name() string               { return "P70_IRQ" }
func (p *irqPin) Number() int                { return -1 }
func (p *irqPin) Function() string           { return "In/High" }
func (p *irqPin) Func() pin.Func             { return gpio.IN }
func (p *irqPin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN} }
func (p *irqPin) SetFunc(f pin.Func) error {
	if f != gpio.IN {
		return fmt.Errorf("pn532test: P70_IRQ is an output of the chip")
	}
	return nil
}
func (p *irqPin) In(pull gpio.Pull, edge gpio.Edge) error { return nil }
func (p *irqPin) Pull() gpio.Pull                         { return gpio.PullUp }
func (p *irqPin) DefaultPull() gpio.Pull                  { return gpio.PullUp }

// Read implements gpio.PinIn.
func (p *irqPin) Read() gpio.Level {
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.irqEnabled && !e.asleep && e.ready(e.o.Now()) {
		return gpio.Low
	}
	return gpio.High
}

// WaitForEdge implements gpio.PinIn; it watches the level on the injected
// clock in 100 µs steps.
func (p *irqPin) WaitForEdge(timeout time.Duration) bool {
	start := p.Read()
	deadline := p.e.o.Now().Add(timeout)
	for timeout < 0 || p.e.o.Now().Before(deadline) {
		p.e.o.Sleep(100 * time.Microsecond)
		if p.Read() != start {
			return true
		}
	}
	return false
}

var (
	_ i2c.BusCloser  = (*I2CBus)(nil)
	_ spi.PortCloser = (*SPIPort)(nil)
	_ spi.Conn       = (*spiConn)(nil)
	_ gpio.PinIn     = (*irqPin)(nil)
)
