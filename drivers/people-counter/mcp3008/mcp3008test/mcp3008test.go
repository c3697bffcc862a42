package mcp3008test

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// MaxHz is the highest clock the chip is rated for (at VDD = 5 V).
const MaxHz = 3600 * physic.KiloHertz

// Chip is an emulated MCP3008. It implements spi.PortCloser.
type Chip struct {
	// FloatHigh makes MISO read 1 while DOUT is high-impedance, as with a
	// pull-up on the line; otherwise 0.
	FloatHigh bool

	mu        sync.Mutex
	vref      float64
	input     func(channel int) float64
	connected bool
	closed    bool
	hz        physic.Frequency
	st        Stats
}

// Stats counts what the chip saw.
type Stats struct {
	Transactions int // CS-low periods
	Conversions  int // transactions that had a start bit
	Single, Diff int // of which single-ended, differential
	LastChannel  int // D2..D0 of the last conversion
	LastCode     int // its result
}

// New returns a chip with VREF at vref volts whose CHn pin is at input(n)
// volts.
func New(vref float64, input func(channel int) float64) *Chip {
	return &Chip{vref: vref, input: input}
}

// Stats returns the counters.
func (c *Chip) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// Hz returns the clock frequency the driver asked for in Connect.
func (c *Chip) Hz() physic.Frequency {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hz
}

func (c *Chip) String() string { return "mcp3008test" }

// Close implements spi.PortCloser.
func (c *Chip) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// LimitSpeed implements spi.PortCloser.
func (c *Chip) LimitSpeed(f physic.Frequency) error {
	if f <= 0 {
		return fmt.Errorf("mcp3008test: invalid speed %s", f)
	}
	return nil
}

// Connect implements spi.Port. It refuses what the chip cannot do: modes
// other than 0 and 3, half duplex, no CS, LSB first, words other than 8
// bits, clocks above 3.6 MHz. It may be called once.
func (c *Chip) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, errors.New("mcp3008test: port closed")
	case c.connected:
		return nil, errors.New("mcp3008test: Connect called twice")
	case mode&^spi.Mode3 != 0:
		return nil, fmt.Errorf("mcp3008test: mode %s not supported", mode)
	case mode != spi.Mode0 && mode != spi.Mode3:
		return nil, fmt.Errorf("mcp3008test: the chip speaks SPI mode 0 or 3, not %s", mode)
	case bits != 8:
		return nil, fmt.Errorf("mcp3008test: %d bits per word; the driver must use 8", bits)
	case f > MaxHz || f < 0:
		return nil, fmt.Errorf("mcp3008test: %s is over the chip's %s", f, MaxHz)
	}
	c.connected = true
	c.hz = f
	return &spiConn{c: c}, nil
}

type spiConn struct{ c *Chip }

func (s *spiConn) String() string      { return "mcp3008test" }
func (s *spiConn) Duplex() conn.Duplex { return conn.Full }

// Tx implements conn.Conn: one transaction with CS low.
func (s *spiConn) Tx(w, r []byte) error {
	if len(w) != 0 && len(r) != 0 && len(w) != len(r) {
		return fmt.Errorf("mcp3008test: Tx with %d bytes to write and %d to read", len(w), len(r))
	}
	var t txn
	if !s.c.begin(&t) {
		return errors.New("mcp3008test: port closed")
	}
	t.shift(w, r, max(len(w), len(r)))
	s.c.end(&t)
	return nil
}

// TxPackets implements spi.Conn: packets joined by KeepCS form one
// transaction.
func (s *spiConn) TxPackets(ps []spi.Packet) error {
	var t txn
	open := false
	for i, p := range ps {
		if p.BitsPerWord != 0 && p.BitsPerWord != 8 {
			return fmt.Errorf("mcp3008test: packet %d: %d bits per word", i, p.BitsPerWord)
		}
		if len(p.W) != 0 && len(p.R) != 0 && len(p.W) != len(p.R) {
			return fmt.Errorf("mcp3008test: packet %d: %d bytes to write and %d to read", i, len(p.W), len(p.R))
		}
		if !open {
			if !s.c.begin(&t) {
				return errors.New("mcp3008test: port closed")
			}
			open = true
		}
		t.shift(p.W, p.R, max(len(p.W), len(p.R)))
		if !p.KeepCS || i == len(ps)-1 {
			s.c.end(&t)
			open = false
		}
	}
	return nil
}

// txn is the chip's state during one CS-low period.
type txn struct {
	c         *Chip
	floatHigh bool
	clock     int  // clocks since CS fell
	start     int  // clock of the start bit, -1 before it
	cmd       byte // SGL, D2, D1, D0 as they arrive
	code      int
}

// begin starts a CS-low period in t; false if the port is closed.
func (c *Chip) begin(t *txn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	*t = txn{c: c, floatHigh: c.FloatHigh, start: -1}
	return true
}

func (c *Chip) end(t *txn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Transactions++
	if t.start >= 0 && t.clock > t.start+4 {
		c.st.Conversions++
		if t.cmd&0x8 != 0 {
			c.st.Single++
		} else {
			c.st.Diff++
		}
		c.st.LastChannel = int(t.cmd & 0x7)
		c.st.LastCode = t.code
	}
}

// shift clocks n bytes: MOSI from w (zeros if w is short), MISO into r.
func (t *txn) shift(w, r []byte, n int) {
	for i := 0; i < n; i++ {
		var in, out byte
		if i < len(w) {
			in = w[i]
		}
		for b := 7; b >= 0; b-- {
			out |= t.bit(in>>b&1 == 1) << b
		}
		if i < len(r) {
			r[i] = out
		}
	}
}

// bit runs one clock: din is the bit on MOSI, the result the bit on MISO.
func (t *txn) bit(din bool) byte {
	k := t.clock
	t.clock++
	hiZ := byte(0)
	if t.floatHigh {
		hiZ = 1
	}
	if t.start < 0 {
		if din {
			t.start = k
		}
		return hiZ
	}
	switch n := k - t.start; {
	case n <= 4: // SGL/DIFF, D2, D1, D0
		t.cmd = t.cmd<<1 | b2i(din)
		if n == 4 {
			t.code = t.c.sample(t.cmd)
		}
		return hiZ
	case n == 5: // completes the sample; DOUT still high-impedance
		return hiZ
	case n == 6:
		return 0 // null bit
	case n <= 16: // B9..B0
		return byte(t.code>>(16-n)) & 1
	case n <= 25: // B1..B9, LSB first
		return byte(t.code>>(n-16)) & 1
	default:
		return 0
	}
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// sample converts for command bits SGL D2 D1 D0 (Table 5-2).
func (c *Chip) sample(cmd byte) int {
	c.mu.Lock()
	input, vref := c.input, c.vref
	c.mu.Unlock()
	ch := int(cmd & 0x7)
	var vin float64
	if cmd&0x8 != 0 {
		vin = volts(input, ch)
	} else {
		plus, minus := ch&^1, ch|1 // even code: even channel is IN+
		if ch&1 == 1 {
			plus, minus = minus, plus
		}
		vin = volts(input, plus) - volts(input, minus)
	}
	return Code(vin, vref)
}

func volts(input func(int) float64, ch int) float64 {
	if input == nil {
		return 0
	}
	return input(ch)
}

// Code is the chip's transfer function: floor(1024 * vin / vref), clipped
// to 0..1023 (DS21295 equation 4-2). A non-positive or NaN vref reads 0.
func Code(vin, vref float64) int {
	if !(vref > 0) || !(vin > 0) {
		return 0
	}
	c := math.Floor(1024 * vin / vref)
	if c > 1023 {
		return 1023
	}
	return int(c)
}

var _ spi.PortCloser = (*Chip)(nil)
