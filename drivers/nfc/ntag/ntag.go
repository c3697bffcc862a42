package ntag

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// Opts configures a Dev. The zero value of a field means its DefaultOpts value.
type Opts struct {
	// Addr is the 7-bit I²C address; the factory value is 0x55.
	Addr uint16
	// Variant forces the chip variant; Detect (the zero value) reads it from
	// the capability container (E1 10 6D 00 = 1k, E1 10 EA 00 = 2k).
	Variant Variant
	// FD is the GPIO wired to the open-drain FD pin (with a pull-up), or nil.
	// With it WaitField waits for an edge; without, it polls NS_REG.
	FD gpio.PinIn
	// LockTimeout is how long an operation waits for a phone to release the
	// memory (NS_REG RF_LOCKED) before failing with ErrRFLocked.
	LockTimeout time.Duration
	// PollInterval is the pause between NS_REG polls while waiting for the RF
	// side or, without FD pin, for a field.
	PollInterval time.Duration
	// Sleep pauses the caller; nil means time.Sleep. A simulation with its own
	// clock passes its sleep here.
	Sleep func(time.Duration)
}

// DefaultOpts are the options New uses for nil opts and for zero fields.
var DefaultOpts = Opts{
	Addr:         0x55,
	LockTimeout:  500 * time.Millisecond,
	PollInterval: 10 * time.Millisecond,
}

// EEPROM programming timing (datasheet: about 4 ms per 16-byte block, ended
// when NS_REG EEPROM_WR_BUSY clears).
const (
	eepromWriteTime = 4 * time.Millisecond
	eepromPoll      = time.Millisecond
	eepromMaxPolls  = 20
)

// ErrRFLocked means the RF side (a phone) held the memory for longer than
// Opts.LockTimeout.
var ErrRFLocked = errors.New("ntag: memory held by the RF interface (NS_REG RF_LOCKED)")

// Dev is an NTAG I2C plus on an I²C bus. Its methods are safe for concurrent
// use; each holds the device for its whole bus sequence.
type Dev struct {
	bus   i2c.Bus
	opts  Opts
	sleep func(time.Duration)

	mu       sync.Mutex
	variant  Variant
	cc       CC
	capacity int // bytes of the NDEF data area from block 1
}

// New checks that an NTAG I2C plus answers at opts.Addr (block 0 byte 0 reads
// 04h), identifies the variant, sets the FD pin to signal field presence
// (NC_REG FD_OFF = FD_ON = 00b) and configures opts.FD for falling edges.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
		if o.Addr == 0 {
			o.Addr = DefaultOpts.Addr
		}
		if o.LockTimeout == 0 {
			o.LockTimeout = DefaultOpts.LockTimeout
		}
		if o.PollInterval == 0 {
			o.PollInterval = DefaultOpts.PollInterval
		}
	}
	if o.Addr >= 0x80 {
		return nil, fmt.Errorf("ntag: Opts.Addr %#x is not a 7-bit I²C address", o.Addr)
	}
	if o.Variant < Detect || o.Variant > NT3H2211 {
		return nil, fmt.Errorf("ntag: Opts.Variant %d is unknown", int(o.Variant))
	}
	if o.LockTimeout < 0 || o.PollInterval < 0 {
		return nil, fmt.Errorf("ntag: Opts.LockTimeout %v and Opts.PollInterval %v must not be negative", o.LockTimeout, o.PollInterval)
	}
	d := &Dev{bus: bus, opts: o, sleep: o.Sleep}
	if d.sleep == nil {
		d.sleep = time.Sleep
	}
	var blk [blockSize]byte
	if err := d.withMemory(func() error { return d.readBlock(blockHeader, blk[:]) }); err != nil {
		return nil, err
	}
	if blk[0] != manufacturerNXP {
		return nil, fmt.Errorf("ntag: block 0 byte 0 at %#x reads %02Xh, not 04h (NXP): not an NTAG I2C plus", o.Addr, blk[0])
	}
	cc := CC(blk[12:16])
	v := o.Variant
	if v == Detect {
		switch {
		case cc.Valid() && cc[2] == CC1k[2]:
			v = NT3H2111
		case cc.Valid() && cc[2] == CC2k[2]:
			v = NT3H2211
		default:
			return nil, fmt.Errorf("ntag: capability container %s is neither the 1k (%s) nor the 2k (%s) one; set Opts.Variant", cc, CC1k, CC2k)
		}
	}
	d.variant = v
	d.setCC(cc)
	if err := d.writeReg(NC_REG, FD_OFF_MASK|FD_ON_MASK, fdFieldPresence); err != nil {
		return nil, err
	}
	if o.FD != nil {
		// FD is open drain, pulled low while a field is present.
		if err := o.FD.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("ntag: FD pin %s: %w", o.FD, err)
		}
	}
	return d, nil
}

// setCC records the capability container and the NDEF data area it allows:
// its announced size, but never into the block holding the dynamic lock bytes.
func (d *Dev) setCC(cc CC) {
	d.cc = cc
	d.capacity = d.variant.fullBlocks() * blockSize
	if cc.Valid() && cc.DataArea() < d.capacity {
		d.capacity = cc.DataArea()
	}
}

func (d *Dev) String() string {
	return fmt.Sprintf("ntag.Dev{%s at %#x on %s}", d.variant, d.opts.Addr, d.bus)
}

// Halt releases the memory to the RF side (clears NS_REG I2C_LOCKED).
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writeReg(NS_REG, byte(I2C_LOCKED), 0)
}

// Version is the chip variant, identified by New from the capability
// container (GET_VERSION exists only on the RF side) or forced by Opts.
func (d *Dev) Version() Variant { return d.variant }

// Capacity is the largest TLV (message plus 3 to 5 bytes) WriteNDEF can store.
func (d *Dev) Capacity() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.capacity
}

// FieldPresent reports NS_REG RF_FIELD_PRESENT: a phone's field is on.
func (d *Dev) FieldPresent() (bool, error) {
	ns, err := d.Status()
	return ns&RF_FIELD_PRESENT != 0, err
}

// Status reads NS_REG.
func (d *Dev) Status() (NS, error) {
	v, err := d.ReadRegister(NS_REG)
	return NS(v), err
}

// ReadRegister reads one session register (register READ operation).
func (d *Dev) ReadRegister(r Register) (byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readReg(r)
}

// WriteRegister changes the bits of session register r selected by mask to
// those of value (register WRITE operation: MEMA FEh, REGA, MASK, REGDAT).
// Session registers are volatile; the configuration block keeps defaults.
func (d *Dev) WriteRegister(r Register, mask, value byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writeReg(r, mask, value)
}

// WaitField waits up to timeout (0: just look, negative: forever) for a
// phone's field and reports whether one is present. With an FD pin it waits
// for the pin's falling edge; an edge from a phone that has already gone
// again reports false before the timeout. Without, it polls NS_REG every
// Opts.PollInterval.
func (d *Dev) WaitField(timeout time.Duration) (bool, error) {
	if fd := d.opts.FD; fd != nil {
		if fd.Read() == gpio.Low || timeout == 0 {
			return fd.Read() == gpio.Low, nil
		}
		// Only positive timeouts: GPIO back-ends disagree on what 0 and -1
		// mean (host/v3's gpioioctl: 0 = forever, -1 = already expired).
		wait := timeout
		if timeout < 0 {
			wait = time.Minute
		}
		for !fd.WaitForEdge(wait) {
			if timeout > 0 {
				return false, nil
			}
		}
		return fd.Read() == gpio.Low, nil
	}
	polls := -1
	if timeout >= 0 && d.opts.PollInterval > 0 {
		polls = int(timeout / d.opts.PollInterval)
	}
	for i := 0; ; i++ {
		present, err := d.FieldPresent()
		if err != nil || present {
			return present, err
		}
		if polls >= 0 && i >= polls {
			return false, nil
		}
		d.sleep(d.opts.PollInterval)
	}
}

// CapabilityContainer reads block 0 bytes 12..15.
func (d *Dev) CapabilityContainer() (CC, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var blk [blockSize]byte
	err := d.withMemory(func() error { return d.readBlock(blockHeader, blk[:]) })
	return CC(blk[12:16]), err
}

// WriteCapabilityContainer formats the tag with cc (e.g. CC1k), rewriting
// block 0: byte 0 is written as Opts.Addr<<1 so that the I²C address stays
// the same (it reads 04h), the other bytes as read.
func (d *Dev) WriteCapabilityContainer(cc CC) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.withMemory(func() error {
		var blk [blockSize]byte
		if err := d.readBlock(blockHeader, blk[:]); err != nil {
			return err
		}
		blk[0] = byte(d.opts.Addr << 1)
		copy(blk[12:], cc[:])
		if err := d.writeBlock(blockHeader, blk[:]); err != nil {
			return err
		}
		d.setCC(cc)
		return nil
	})
}

// ReadBlock reads one 16-byte block of the I²C memory map.
func (d *Dev) ReadBlock(block byte) ([blockSize]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var blk [blockSize]byte
	if block == blockSession {
		return blk, errors.New("ntag: session registers (block FEh) are read with ReadRegister")
	}
	err := d.withMemory(func() error { return d.readBlock(block, blk[:]) })
	return blk, err
}

// ReadNDEF returns the message of the first NDEF TLV of user memory, read
// from block 1 on, only as many blocks as the TLV spans. An empty NDEF TLV
// gives an empty message; no NDEF TLV gives ErrNoNDEF.
func (d *Dev) ReadNDEF() ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var msg []byte
	err := d.withMemory(func() error {
		var err error
		msg, err = findNDEF(&blockReader{d: d}, d.capacity)
		return err
	})
	return msg, err
}

// WriteNDEF stores msg as an NDEF TLV (03h, length, msg) and a terminator TLV
// (FEh) from block 1, block by block, waiting for each EEPROM write. A
// message spanning several blocks is written as the NFC Forum T2T spec
// advises: block 1 first with a zero TLV length, the other blocks, then block
// 1 with the real length, so a phone reading meanwhile sees an empty message
// rather than a mix of two. Fails with ErrTooLong if the TLV does not fit.
func (d *Dev) WriteNDEF(msg []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if need := tlvSize(len(msg)); need > d.capacity {
		return fmt.Errorf("%w: a message of %d bytes takes %d bytes as a TLV, the %s data area holds %d",
			ErrTooLong, len(msg), need, d.variant, d.capacity)
	}
	tlv := wrapTLV(msg)
	buf := make([]byte, (len(tlv)+blockSize-1)/blockSize*blockSize)
	copy(buf, tlv)
	blocks := len(buf) / blockSize
	return d.withMemory(func() error {
		first := buf[:blockSize]
		if blocks > 1 {
			var hold [blockSize]byte
			copy(hold[:], first)
			if len(msg) < 0xFF {
				hold[1] = 0
			} else {
				hold[2], hold[3] = 0, 0
			}
			if err := d.writeBlock(blockUser, hold[:]); err != nil {
				return err
			}
			for i := 1; i < blocks; i++ {
				if err := d.writeBlock(byte(blockUser+i), buf[i*blockSize:(i+1)*blockSize]); err != nil {
					return err
				}
			}
		}
		return d.writeBlock(blockUser, first)
	})
}

// withMemory runs f once the RF side does not hold the memory, then releases
// the I²C lock that the access took, so a phone need not wait for the
// watchdog timer.
func (d *Dev) withMemory(f func() error) error {
	if err := d.waitRFReleased(); err != nil {
		return err
	}
	err := f()
	// Release even after a failure: a phone must not be locked out.
	if rerr := d.writeReg(NS_REG, byte(I2C_LOCKED), 0); err == nil {
		err = rerr
	}
	return err
}

func (d *Dev) waitRFReleased() error {
	polls := 0
	if d.opts.PollInterval > 0 {
		polls = int(d.opts.LockTimeout / d.opts.PollInterval)
	}
	for i := 0; ; i++ {
		ns, err := d.readReg(NS_REG)
		if err != nil {
			return err
		}
		if NS(ns)&RF_LOCKED == 0 {
			return nil
		}
		if i >= polls {
			return fmt.Errorf("%w for more than %v", ErrRFLocked, d.opts.LockTimeout)
		}
		d.sleep(d.opts.PollInterval)
	}
}

// readBlock: MEMA, STOP, then a 16-byte read (datasheet "READ operation").
func (d *Dev) readBlock(block byte, buf []byte) error {
	if err := d.bus.Tx(d.opts.Addr, []byte{block}, nil); err != nil {
		return fmt.Errorf("ntag: read block %#02x: address: %w", block, err)
	}
	if err := d.bus.Tx(d.opts.Addr, nil, buf[:blockSize]); err != nil {
		return fmt.Errorf("ntag: read block %#02x: %w", block, err)
	}
	return nil
}

// writeBlock writes 16 bytes at block and waits for the EEPROM cycle. It
// refuses to write block 0 with any I²C address byte but the current one.
func (d *Dev) writeBlock(block byte, data []byte) error {
	if block == blockHeader && data[0] != byte(d.opts.Addr<<1) {
		return fmt.Errorf("ntag: refusing to write %02Xh to block 0 byte 0: it would move the I²C address from %#x to %#x", data[0], d.opts.Addr, data[0]>>1)
	}
	w := make([]byte, 1+blockSize)
	w[0] = block
	copy(w[1:], data[:blockSize])
	if err := d.bus.Tx(d.opts.Addr, w, nil); err != nil {
		return fmt.Errorf("ntag: write block %#02x: %w", block, err)
	}
	return d.waitEEPROM(block)
}

// waitEEPROM sleeps the programming time then polls NS_REG until
// EEPROM_WR_BUSY clears; EEPROM_WR_ERR is reported and cleared.
func (d *Dev) waitEEPROM(block byte) error {
	d.sleep(eepromWriteTime)
	for i := 0; ; i++ {
		v, err := d.readReg(NS_REG)
		if err != nil {
			return err
		}
		ns := NS(v)
		if ns&EEPROM_WR_ERR != 0 {
			_ = d.writeReg(NS_REG, byte(EEPROM_WR_ERR), 0)
			return fmt.Errorf("ntag: EEPROM write of block %#02x failed (NS_REG %s)", block, ns)
		}
		if ns&EEPROM_WR_BUSY == 0 {
			return nil
		}
		if i >= eepromMaxPolls {
			return fmt.Errorf("ntag: EEPROM write of block %#02x still busy after %v", block, eepromWriteTime+eepromMaxPolls*eepromPoll)
		}
		d.sleep(eepromPoll)
	}
}

// readReg: MEMA FEh, REGA, STOP, then a 1-byte read (register READ).
func (d *Dev) readReg(r Register) (byte, error) {
	if err := d.bus.Tx(d.opts.Addr, []byte{blockSession, byte(r)}, nil); err != nil {
		return 0, fmt.Errorf("ntag: read %s: address: %w", r, err)
	}
	var b [1]byte
	if err := d.bus.Tx(d.opts.Addr, nil, b[:]); err != nil {
		return 0, fmt.Errorf("ntag: read %s: %w", r, err)
	}
	return b[0], nil
}

func (d *Dev) writeReg(r Register, mask, value byte) error {
	if err := d.bus.Tx(d.opts.Addr, []byte{blockSession, byte(r), mask, value}, nil); err != nil {
		return fmt.Errorf("ntag: write %s: %w", r, err)
	}
	return nil
}

// blockReader reads user memory from block 1 on demand for findNDEF.
type blockReader struct {
	d   *Dev
	buf []byte
}

func (m *blockReader) slice(off, n int) ([]byte, error) {
	for len(m.buf) < off+n {
		var blk [blockSize]byte
		if err := m.d.readBlock(byte(blockUser+len(m.buf)/blockSize), blk[:]); err != nil {
			return nil, err
		}
		m.buf = append(m.buf, blk[:]...)
	}
	return m.buf[off : off+n], nil
}
