package mcp3008

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Command bits, DS21295 section 6.1 (Figure 6-1, "SPI communication using
// 8-bit segments"): the start bit is the last bit of the first byte so that
// the 10-bit result ends byte-aligned in the third.
const (
	StartBit byte = 0x01 // byte 0, bit 0: first high bit clocked in with CS low
	SGL      byte = 0x80 // byte 1, bit 7: 1 = single-ended, 0 = differential (pseudo)
	// Byte 1 bits 6..4 are D2..D0, the channel (Table 5-2); bit 3 is the
	// clock that completes the sample; DOUT is high-impedance until then.
	chanShift = 4
	// NullBit masks the null bit the chip drives low before the result, in
	// byte 1 of the reply; bits 1..0 of byte 1 are B9..B8, byte 2 is B7..B0.
	NullBit byte = 0x04
)

// Limits from the datasheet (DS21295, electrical characteristics).
const (
	Channels            = 8
	MaxCode             = 1023
	MaxHz5V             = 3600 * physic.KiloHertz // fCLK at VDD = 5 V
	MaxHz2V7            = 1350 * physic.KiloHertz // fCLK at VDD = 2.7 V
	txLen               = 3
	errNullBitNotLowFmt = "mcp3008: %s: null bit read high (0x%02x 0x%02x 0x%02x): no chip driving MISO?"
)

// Opts configures a Dev.
type Opts struct {
	// MaxHz is the highest SPI clock to use; the port may pick lower.
	// 0 means DefaultOpts.MaxHz. The datasheet allows 1.35 MHz at 2.7 V and
	// 3.6 MHz at 5 V; more is refused.
	MaxHz physic.Frequency
	// Mode is spi.Mode0 or spi.Mode3, the two the chip supports.
	Mode spi.Mode
	// Vref is the voltage on the VREF pin, used by ReadVolts. 0 means
	// DefaultOpts.Vref.
	Vref float64
}

// DefaultOpts runs the bus at 1 MHz, within the datasheet limit at any
// supply from 2.7 V, in mode 0, with VREF tied to a 3.3 V supply.
var DefaultOpts = Opts{MaxHz: physic.MegaHertz, Mode: spi.Mode0, Vref: 3.3}

// Dev is an MCP3008 on an SPI port.
type Dev struct {
	c    spi.Conn
	opts Opts
	name string

	mu   sync.Mutex // guards w and r, shared by the conversions
	w, r [txLen]byte
}

// New connects to the chip on port. Nothing is sent: the chip has no
// registers, every conversion is a fresh command.
func New(port spi.Port, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.MaxHz == 0 {
		o.MaxHz = DefaultOpts.MaxHz
	}
	if o.Vref == 0 {
		o.Vref = DefaultOpts.Vref
	}
	if o.MaxHz < 0 || o.MaxHz > MaxHz5V {
		return nil, fmt.Errorf("mcp3008: MaxHz %s out of range (the datasheet allows up to %s at 5 V)", o.MaxHz, MaxHz5V)
	}
	if o.Mode != spi.Mode0 && o.Mode != spi.Mode3 {
		return nil, fmt.Errorf("mcp3008: mode %s not supported: the chip speaks mode 0 or 3", o.Mode)
	}
	if o.Vref < 0 {
		return nil, fmt.Errorf("mcp3008: Vref %g V is negative", o.Vref)
	}
	if port == nil {
		return nil, errors.New("mcp3008: no SPI port")
	}
	c, err := port.Connect(o.MaxHz, o.Mode, 8)
	if err != nil {
		return nil, fmt.Errorf("mcp3008: %w", err)
	}
	return &Dev{c: c, opts: o, name: "mcp3008{" + port.String() + "}"}, nil
}

// Read converts single-ended input channel (0..7) against VREF and returns
// the code, 0..1023.
func (d *Dev) Read(channel int) (int, error) {
	if channel < 0 || channel >= Channels {
		return 0, fmt.Errorf("mcp3008: channel %d out of range 0..%d", channel, Channels-1)
	}
	return d.convert(SGL | byte(channel)<<chanShift)
}

// ReadDiff converts a pseudo-differential pair, IN+ minus IN-, and returns
// the code, 0..1023 (0 when IN- is above IN+). pair is D2..D0 of Table 5-2:
//
//	0: CH0-CH1  1: CH1-CH0  2: CH2-CH3  3: CH3-CH2
//	4: CH4-CH5  5: CH5-CH4  6: CH6-CH7  7: CH7-CH6
func (d *Dev) ReadDiff(pair int) (int, error) {
	if pair < 0 || pair >= Channels {
		return 0, fmt.Errorf("mcp3008: differential pair %d out of range 0..%d", pair, Channels-1)
	}
	return d.convert(byte(pair) << chanShift)
}

// ReadVolts converts single-ended channel and scales the code with
// Opts.Vref: code * Vref / 1024 (DS21295 equation 4-2).
func (d *Dev) ReadVolts(channel int) (float64, error) {
	code, err := d.Read(channel)
	if err != nil {
		return 0, err
	}
	return Volts(code, d.opts.Vref), nil
}

// Volts converts a code to the input voltage it stands for.
func Volts(code int, vref float64) float64 { return float64(code) * vref / 1024 }

// what names the input of a command byte 1 for errors.
func what(config byte) string {
	n := int(config>>chanShift) & (Channels - 1)
	if config&SGL != 0 {
		return fmt.Sprintf("CH%d", n)
	}
	return fmt.Sprintf("pair %d", n)
}

// convert runs one 3-byte conversion with config in byte 1.
func (d *Dev) convert(config byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w = [txLen]byte{StartBit, config, 0}
	if err := d.c.Tx(d.w[:], d.r[:]); err != nil {
		return 0, fmt.Errorf("mcp3008: %s: %w", what(config), err)
	}
	if d.r[1]&NullBit != 0 {
		return 0, fmt.Errorf(errNullBitNotLowFmt, what(config), d.r[0], d.r[1], d.r[2])
	}
	return int(d.r[1]&0x03)<<8 | int(d.r[2]), nil
}

func (d *Dev) String() string { return d.name }

// Halt implements conn.Resource. The chip only converts when asked, so
// there is nothing to stop.
func (d *Dev) Halt() error { return nil }
