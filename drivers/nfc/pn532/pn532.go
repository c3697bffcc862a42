package pn532

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Command codes (UM0701-02 §7).
const (
	CmdDiagnose            = 0x00
	CmdGetFirmwareVersion  = 0x02
	CmdGetGeneralStatus    = 0x04
	CmdSAMConfiguration    = 0x14
	CmdPowerDown           = 0x16
	CmdRFConfiguration     = 0x32
	CmdInDataExchange      = 0x40
	CmdInListPassiveTarget = 0x4A
	CmdInRelease           = 0x52
)

// Host interface bytes.
const (
	// I2CAddr is the PN532's 7-bit I²C address (0x48 write / 0x49 read).
	I2CAddr = 0x24

	// StatusReady is the ready bit of the I²C status byte and of the SPI
	// status read.
	StatusReady = 0x01

	// SPI prefix bytes (§6.2.5).
	SPIDataWrite  = 0x01 // DW
	SPIStatusRead = 0x02 // SR
	SPIDataRead   = 0x03 // DR
)

// SAMConfiguration modes (§7.2.10).
const (
	SAMNormal      = 0x01
	SAMVirtualCard = 0x02
	SAMWiredCard   = 0x03
	SAMDualCard    = 0x04
)

// RFConfiguration items (§7.3.1).
const (
	RFItemField      = 0x01
	RFItemTimings    = 0x02
	RFItemMaxRtyCOM  = 0x04
	RFItemMaxRetries = 0x05
)

// PowerDown WakeUpEnable bits (§7.2.11).
const (
	WakeUpI2C  = 0x80
	WakeUpGPIO = 0x40
	WakeUpSPI  = 0x20
	WakeUpHSU  = 0x10
	WakeUpRF   = 0x08
)

// Opts configures a Dev. The zero value of a field means its default.
type Opts struct {
	// Addr is the I²C address (default I2CAddr, 0x24). Ignored on SPI.
	Addr uint16
	// SPIFreq is the SPI clock (default 1 MHz; the PN532 allows 5 MHz).
	SPIFreq physic.Frequency
	// IRQ is the optional P70_IRQ pin. When set, the driver waits for it to
	// go low instead of polling the status byte.
	IRQ gpio.PinIn

	// AckTimeout is how long to wait for the ACK of a command before
	// sending it again (default 30 ms).
	AckTimeout time.Duration
	// Timeout is how long to wait for a response once acknowledged
	// (default 1 s). On expiry the command is aborted with an ACK frame.
	Timeout time.Duration
	// Retries is how many more times a command is sent when no ACK comes,
	// and how many NACKs are sent for a corrupt response (default 3; use a
	// negative value for none).
	Retries int
	// PollInterval is the pause between two status polls (default 1 ms).
	PollInterval time.Duration
	// WakeDelay is how long the chip is given to wake up after the wake-up
	// transaction (default 2 ms, the oscillator start-up time).
	WakeDelay time.Duration
	// PassiveRetries is the MxRtyPassiveActivation value sent with
	// RFConfiguration item 5: how many times InListPassiveTarget retries
	// before answering "no target" (default 2; 0xFF would block until a
	// card comes).
	PassiveRetries byte
	// PollFeliCa makes Poll also look for FeliCa cards at 212 kbps.
	PollFeliCa bool

	// Sleep and Now are the timing hooks (default time.Sleep, time.Now);
	// tests and simulations swap them for a fake clock.
	Sleep func(time.Duration)
	Now   func() time.Time
}

// DefaultOpts are the options used when nil is passed.
var DefaultOpts = Opts{
	Addr:           I2CAddr,
	SPIFreq:        physic.MegaHertz,
	AckTimeout:     30 * time.Millisecond,
	Timeout:        time.Second,
	Retries:        3,
	PollInterval:   time.Millisecond,
	WakeDelay:      2 * time.Millisecond,
	PassiveRetries: 2,
}

func (o *Opts) withDefaults() Opts {
	r := DefaultOpts
	if o == nil {
		r.Sleep, r.Now = time.Sleep, time.Now
		return r
	}
	r.IRQ = o.IRQ
	r.PollFeliCa = o.PollFeliCa
	if o.Addr != 0 {
		r.Addr = o.Addr
	}
	if o.SPIFreq != 0 {
		r.SPIFreq = o.SPIFreq
	}
	if o.AckTimeout != 0 {
		r.AckTimeout = o.AckTimeout
	}
	if o.Timeout != 0 {
		r.Timeout = o.Timeout
	}
	if o.Retries != 0 {
		r.Retries = max(o.Retries, 0)
	}
	if o.PollInterval != 0 {
		r.PollInterval = o.PollInterval
	}
	if o.WakeDelay != 0 {
		r.WakeDelay = o.WakeDelay
	}
	if o.PassiveRetries != 0 {
		r.PassiveRetries = o.PassiveRetries
	}
	r.Sleep, r.Now = o.Sleep, o.Now
	if r.Sleep == nil {
		r.Sleep = time.Sleep
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// Errors of the driver.
var (
	ErrNoAck     = errors.New("pn532: no ACK from the chip")
	ErrTimeout   = errors.New("pn532: no response in time (command aborted)")
	ErrSyntax    = errors.New("pn532: chip reported an application level error (error frame)")
	ErrNoTarget  = errors.New("pn532: no target in the field")
	ErrNotPN532  = errors.New("pn532: chip is not a PN532")
	ErrBadAnswer = errors.New("pn532: unexpected response")
)

// transport moves frames to and from the chip.
type transport interface {
	// wake does the transaction that wakes the chip from power down.
	wake() error
	write(frame []byte) error
	// status reads the ready bit with the shortest transaction possible.
	status() (bool, error)
	// read reads n frame bytes; it is only called once status said ready.
	read(n int) ([]byte, error)
	wakeUpSource() byte
	String() string
}

// Dev is a PN532 on I²C or SPI. Its methods are safe for concurrent use;
// commands are serialised.
type Dev struct {
	mu     sync.Mutex
	t      transport
	o      Opts
	tg     byte // logical number of the current target, 0 = none
	asleep bool // after PowerDown: wake before the next command
	fw     FirmwareVersion
	buf    []byte
}

// NewI2C opens a PN532 on an I²C bus: it wakes the chip, leaves LowVBat
// mode with SAMConfiguration (normal mode), checks the firmware version
// reports a PN532 (IC 0x32) and bounds InListPassiveTarget retries.
func NewI2C(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o := opts.withDefaults()
	d := &Dev{o: o, t: &i2cTransport{dev: i2c.Dev{Bus: bus, Addr: o.Addr}}}
	return d, d.init()
}

// NewSPI opens a PN532 on an SPI port (mode 0, LSB first done in software).
// See NewI2C for what it sends.
func NewSPI(port spi.Port, opts *Opts) (*Dev, error) {
	o := opts.withDefaults()
	c, err := port.Connect(o.SPIFreq, spi.Mode0, 8)
	if err != nil {
		return nil, fmt.Errorf("pn532: connecting to SPI %s: %w", port, err)
	}
	d := &Dev{o: o, t: &spiTransport{c: c}}
	return d, d.init()
}

func (d *Dev) init() error {
	if d.o.IRQ != nil {
		if err := d.o.IRQ.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return fmt.Errorf("pn532: IRQ pin %s: %w", d.o.IRQ, err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.wakeLocked(); err != nil {
		return err
	}
	if err := d.samConfigurationLocked(SAMNormal, 0x14, d.o.IRQ != nil); err != nil {
		return err
	}
	fw, err := d.firmwareVersionLocked()
	if err != nil {
		return err
	}
	if fw.IC != 0x32 {
		return fmt.Errorf("%w: IC %#02x (want 0x32)", ErrNotPN532, fw.IC)
	}
	d.fw = fw
	return d.setMaxRetriesLocked(0xFF, 0x01, d.o.PassiveRetries)
}

// wakeLocked does the wake-up the manual asks for: the chip wakes on the
// host interface (I²C address match, SPI NSS low) and needs its oscillator
// to start before it takes a frame.
func (d *Dev) wakeLocked() error {
	if err := d.t.wake(); err != nil {
		return fmt.Errorf("pn532: wake-up on %s: %w", d.t, err)
	}
	d.o.Sleep(d.o.WakeDelay)
	d.asleep = false
	return nil
}

// String names the chip and its bus.
func (d *Dev) String() string {
	return fmt.Sprintf("PN532{%s}", d.t)
}

// Halt releases any target (ending an ISO-DEP session), then powers the
// chip down (PowerDown, RF field off) with wake-up on the host interface.
// The next command wakes it again.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.asleep {
		return nil
	}
	if _, err := d.exchangeLocked(CmdInRelease, []byte{0x00}, 1); err != nil {
		return err
	}
	d.tg = 0
	r, err := d.exchangeLocked(CmdPowerDown, []byte{d.t.wakeUpSource()}, 1)
	if err != nil {
		return err
	}
	if len(r) != 1 {
		return fmt.Errorf("%w: PowerDown answered %d bytes, want 1", ErrBadAnswer, len(r))
	}
	if err := statusErr(CmdPowerDown, r[0]); err != nil {
		return err
	}
	d.asleep = true
	return nil
}

// Exchange sends a command with its parameters and returns the response
// parameters (after the response code). maxResp bounds the response read
// from the chip; a longer response is read again in full after a NACK.
func (d *Dev) Exchange(cmd byte, params []byte, maxResp int) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.exchangeLocked(cmd, params, maxResp)
	return append([]byte(nil), r...), err
}

// exchangeLocked runs one command: frame out, ACK in (resent when none
// comes), response in (NACKed when corrupt). The returned slice aliases
// d's buffer until the next command.
func (d *Dev) exchangeLocked(cmd byte, params []byte, maxResp int) ([]byte, error) {
	if d.asleep {
		if err := d.wakeLocked(); err != nil {
			return nil, err
		}
	}
	d.buf = append(d.buf[:0], cmd)
	d.buf = append(d.buf, params...)
	frame, err := EncodeFrame(TFIHostToPN532, d.buf)
	if err != nil {
		return nil, fmt.Errorf("pn532: command %#02x: %w", cmd, err)
	}
	var lastErr error
	acked := false
	for attempt := 0; attempt <= d.o.Retries; attempt++ {
		if err := d.t.write(frame); err != nil {
			return nil, fmt.Errorf("pn532: command %#02x: writing: %w", cmd, err)
		}
		ok, err := d.waitReady(d.o.AckTimeout)
		if err != nil {
			return nil, fmt.Errorf("pn532: command %#02x: %w", cmd, err)
		}
		if !ok {
			lastErr = ErrNoAck
			continue
		}
		b, err := d.t.read(len(ackFrame))
		if err != nil {
			return nil, fmt.Errorf("pn532: command %#02x: reading ACK: %w", cmd, err)
		}
		if f, _, err := ParseFrame(b); err != nil || f.Kind != FrameAck {
			if err == nil {
				err = fmt.Errorf("got %s", f.Kind)
			}
			lastErr = fmt.Errorf("%w: %v", ErrNoAck, err)
			continue
		}
		acked = true
		break
	}
	if !acked {
		return nil, fmt.Errorf("pn532: command %#02x: %w (after %d attempts)", cmd, lastErr, d.o.Retries+1)
	}
	return d.responseLocked(cmd, maxResp)
}

func (d *Dev) responseLocked(cmd byte, maxResp int) ([]byte, error) {
	n := normalOverhead + 2 + max(maxResp, 0)
	var lastErr error
	for nack := 0; nack <= d.o.Retries; nack++ {
		if nack > 0 {
			if err := d.t.write(nackFrame); err != nil {
				return nil, fmt.Errorf("pn532: command %#02x: writing NACK: %w", cmd, err)
			}
		}
		ok, err := d.waitReady(d.o.Timeout)
		if err != nil {
			return nil, fmt.Errorf("pn532: command %#02x: %w", cmd, err)
		}
		if !ok {
			// Abort the command so the chip is free for the next one.
			_ = d.t.write(ackFrame)
			return nil, fmt.Errorf("pn532: command %#02x: %w", cmd, ErrTimeout)
		}
		b, err := d.t.read(n)
		if err != nil {
			return nil, fmt.Errorf("pn532: command %#02x: reading response: %w", cmd, err)
		}
		f, _, err := ParseFrame(b)
		if err != nil {
			var te *TruncatedError
			if errors.As(err, &te) && te.Need > n && te.Need <= MaxExtendedLen+extendedOverhead+8 {
				n = te.Need // read it all after the NACK
			}
			lastErr = err
			continue
		}
		switch f.Kind {
		case FrameError:
			return nil, fmt.Errorf("pn532: command %#02x: %w", cmd, ErrSyntax)
		case FrameInfo:
		default:
			return nil, fmt.Errorf("pn532: command %#02x: %w: %s", cmd, ErrBadAnswer, f.Kind)
		}
		if f.TFI != TFIPN532ToHost {
			return nil, fmt.Errorf("pn532: command %#02x: %w: TFI %#02x (want 0xd5)", cmd, ErrBadAnswer, f.TFI)
		}
		if len(f.Data) == 0 || f.Data[0] != cmd+1 {
			got := -1
			if len(f.Data) > 0 {
				got = int(f.Data[0])
			}
			return nil, fmt.Errorf("pn532: command %#02x: %w: response code %#x (want %#02x)", cmd, ErrBadAnswer, got, cmd+1)
		}
		return f.Data[1:], nil
	}
	return nil, fmt.Errorf("pn532: command %#02x: corrupt response after %d NACKs: %w", cmd, d.o.Retries, lastErr)
}

// waitReady waits until the chip has a frame for the host or timeout
// passes. With an IRQ pin it waits for the pin to go low; otherwise it
// polls the status with short reads.
func (d *Dev) waitReady(timeout time.Duration) (bool, error) {
	deadline := d.o.Now().Add(timeout)
	if irq := d.o.IRQ; irq != nil {
		for {
			if irq.Read() == gpio.Low {
				return true, nil
			}
			left := deadline.Sub(d.o.Now())
			if left <= 0 {
				return false, nil
			}
			irq.WaitForEdge(left)
		}
	}
	for {
		ok, err := d.t.status()
		if err != nil || ok {
			return ok, err
		}
		if !d.o.Now().Before(deadline) {
			return false, nil
		}
		d.o.Sleep(d.o.PollInterval)
	}
}

// i2cTransport: a write is one frame; every read starts with the status
// byte (§6.2.4).
type i2cTransport struct {
	dev i2c.Dev
	st  [1]byte
	rx  []byte
}

func (t *i2cTransport) String() string { return fmt.Sprintf("%s addr %#02x", t.dev.Bus, t.dev.Addr) }

func (t *i2cTransport) wakeUpSource() byte { return WakeUpI2C }

// wake addresses the chip with a 1-byte read: the address match wakes it.
// The value is meaningless while the chip starts.
func (t *i2cTransport) wake() error { return t.dev.Tx(nil, t.st[:]) }

func (t *i2cTransport) write(frame []byte) error { return t.dev.Tx(frame, nil) }

func (t *i2cTransport) status() (bool, error) {
	if err := t.dev.Tx(nil, t.st[:]); err != nil {
		return false, err
	}
	return t.st[0]&StatusReady != 0, nil
}

func (t *i2cTransport) read(n int) ([]byte, error) {
	t.rx = grow(t.rx, n+1)
	if err := t.dev.Tx(nil, t.rx); err != nil {
		return nil, err
	}
	if t.rx[0]&StatusReady == 0 {
		return nil, fmt.Errorf("status byte %#02x: not ready", t.rx[0])
	}
	return t.rx[1:], nil
}

// spiTransport: prefix byte + payload, every byte bit-reversed because the
// PN532 is LSB first and the host's SPI is MSB first (§6.2.5).
type spiTransport struct {
	c      spi.Conn
	tx, rx []byte
}

func (t *spiTransport) String() string { return fmt.Sprintf("SPI %s", t.c) }

func (t *spiTransport) wakeUpSource() byte { return WakeUpSPI }

// wake lowers NSS for one status read; NSS low wakes the chip.
func (t *spiTransport) wake() error {
	_, err := t.status()
	return err
}

func (t *spiTransport) write(frame []byte) error {
	t.tx = grow(t.tx, len(frame)+1)
	t.tx[0] = reverse(SPIDataWrite)
	for i, b := range frame {
		t.tx[i+1] = reverse(b)
	}
	return t.c.Tx(t.tx, nil)
}

func (t *spiTransport) status() (bool, error) {
	t.tx = grow(t.tx, 2)
	t.tx[0], t.tx[1] = reverse(SPIStatusRead), 0
	t.rx = grow(t.rx, 2)
	if err := t.c.Tx(t.tx, t.rx); err != nil {
		return false, err
	}
	return reverse(t.rx[1])&StatusReady != 0, nil
}

func (t *spiTransport) read(n int) ([]byte, error) {
	t.tx = grow(t.tx, n+1)
	clear(t.tx)
	t.tx[0] = reverse(SPIDataRead)
	t.rx = grow(t.rx, n+1)
	if err := t.c.Tx(t.tx, t.rx); err != nil {
		return nil, err
	}
	out := t.rx[1:]
	for i, b := range out {
		out[i] = reverse(b)
	}
	return out, nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// reverse mirrors the bit order of a byte (bit 0 <-> bit 7).
func reverse(b byte) byte {
	b = b>>4 | b<<4
	b = (b&0xCC)>>2 | (b&0x33)<<2
	return (b&0xAA)>>1 | (b&0x55)<<1
}
