// Package ntagtest emulates an NXP NTAG I2C plus (NT3H2111/NT3H2211) on an
// I²C bus, with a phone on its RF side, for the ntag driver's tests, the demo
// and the simulated store.
//
// The emulator follows the datasheet (NXP NT3H2111_2211 product data sheet)
// where a driver could get it wrong: 16-byte blocks addressed by MEMA;
// session registers only through register READ (FEh, REGA → 1 byte) and the
// masked register WRITE (FEh, REGA, MASK, REGDAT), with read-only bits kept;
// block 0 byte 0 reads 04h but a write moves the I²C address to byte>>1;
// EEPROM writes keep NS_REG EEPROM_WR_BUSY set for the programming time, and
// memory accesses during it are not acknowledged; memory accesses while the
// phone holds the memory (RF_LOCKED) are not acknowledged; an I²C memory
// access sets I2C_LOCKED, which shuts the phone out until the host clears it
// or the watchdog (WDT_MS:WDT_LS × 9.43 µs) expires; the FD pin is pulled low
// while a field is present, as NC_REG FD_ON selects.
//
// Not emulated: pass-through and SRAM mirror (SRAM is plain memory),
// password protection, NDEF_DATA_READ, NFC silence / soft reset, loading
// changed configuration registers at power-on.
//
// Time comes from Opts.Now, so a simulation can run the tag on its own clock.
// Every method is safe for concurrent use.
package ntagtest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// ErrNAK is wrapped by the errors of transactions the chip would not
// acknowledge.
var ErrNAK = errors.New("ntagtest: NAK")

// Memory map constants (datasheet: "I2C memory map").
const (
	blockSize    = 16
	blockSession = 0xFE
	sramFirst    = 0xF8
	sramLast     = 0xFB

	regNC      = 0
	regWDTLS   = 3
	regWDTMS   = 4
	regClkStr  = 5
	regNS      = 6
	regFixed   = 7
	nsField    = 1 << 0
	nsBusy     = 1 << 1
	nsWrErr    = 1 << 2
	nsRFLock   = 1 << 5
	nsI2CLock  = 1 << 6
	fdOnMask   = 3 << 2
	fdOnPTData = 3 << 2 // FD_ON 11b: pass-through data ready, never with plain memory

	wdtTick = 9430 * time.Nanosecond // datasheet: watchdog counter period 9.43 µs
)

// Opts configures an Emulator.
type Opts struct {
	// Addr is the 7-bit I²C address the chip starts at; 0 means 0x55.
	Addr uint16
	// TwoK emulates the NT3H2211 (2k) instead of the NT3H2111 (1k).
	TwoK bool
	// Serial is UID1..UID6 (UID0 is 04h, NXP).
	Serial [6]byte
	// Now is the emulator's clock; nil means time.Now.
	Now func() time.Time
	// EEPROMWriteTime is how long a block write keeps EEPROM_WR_BUSY; 0 means 4 ms.
	EEPROMWriteTime time.Duration
}

// Stats counts bus activity.
type Stats struct {
	Tx             int // transactions addressed to the chip
	NAKs           int // of which not acknowledged
	BlockWrites    int // 16-byte block writes accepted
	AddressChanges int // block 0 writes that moved the I²C address
}

// Emulator is an NTAG I2C plus. It implements i2c.Bus for a single chip.
type Emulator struct {
	now       func() time.Time
	writeTime time.Duration
	twoK      bool
	fd        *pintest.Pin

	mu        sync.Mutex
	addr      uint16
	mem       []byte // blocks 0..config block; mem[0] holds the address byte
	sram      [4 * blockSize]byte
	session   [8]byte
	busyUntil time.Time
	wrErr     bool
	failNext  bool
	field     bool
	rfLocked  bool
	i2cLocked bool
	i2cLockAt time.Time
	ptr       int // block pointer set by MEMA, -1 none
	regPtr    int // session register pointer set by FEh REGA, -1 none
	st        Stats
}

// New returns a factory-fresh tag: the CC of its size, an empty NDEF TLV
// (03 00 FE) at block 1, configuration registers at their defaults.
func New(opts *Opts) *Emulator {
	var o Opts
	if opts != nil {
		o = *opts
	}
	if o.Addr == 0 {
		o.Addr = 0x55
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EEPROMWriteTime == 0 {
		o.EEPROMWriteTime = 4 * time.Millisecond
	}
	e := &Emulator{now: o.Now, writeTime: o.EEPROMWriteTime, twoK: o.TwoK, addr: o.Addr, ptr: -1, regPtr: -1}
	e.fd = pintest.New("NTAG-FD", -1)
	e.mem = make([]byte, (int(e.configBlock())+1)*blockSize)
	h := e.mem[:blockSize]
	h[0] = byte(o.Addr << 1)
	copy(h[1:7], o.Serial[:])
	if e.twoK {
		copy(h[12:], []byte{0xE1, 0x10, 0xEA, 0x00})
	} else {
		copy(h[12:], []byte{0xE1, 0x10, 0x6D, 0x00})
	}
	copy(e.mem[blockSize:], []byte{0x03, 0x00, 0xFE})
	// AUTH0 = FFh: no password protection (last byte of the dynamic lock block).
	e.mem[(int(e.configBlock())-2)*blockSize+15] = 0xFF
	cfg := e.mem[int(e.configBlock())*blockSize:]
	// NC_REG, LAST_NDEF_BLOCK, SRAM_MIRROR_BLOCK, WDT_LS, WDT_MS, I2C_CLOCK_STR, REG_LOCK, RFU.
	copy(cfg, []byte{0x01, 0x00, 0xF8, 0x48, 0x08, 0x01, 0x00, 0x00})
	copy(e.session[:6], cfg[:6])
	return e
}

// configBlock is 3Ah (1k) or 7Ah (2k).
func (e *Emulator) configBlock() byte {
	if e.twoK {
		return 0x7A
	}
	return 0x3A
}

// UserMemory is the size of user memory in bytes (888 or 1912).
func (e *Emulator) UserMemory() int {
	if e.twoK {
		return 1912
	}
	return 888
}

func (e *Emulator) String() string {
	if e.twoK {
		return "ntagtest(NT3H2211)"
	}
	return "ntagtest(NT3H2111)"
}

// SetSpeed implements i2c.Bus; the chip runs at up to 400 kHz.
func (e *Emulator) SetSpeed(f physic.Frequency) error {
	if f > 400*physic.KiloHertz {
		return fmt.Errorf("ntagtest: %s above the chip's 400 kHz", f)
	}
	return nil
}

// FD is the chip's field-detect pin, as the host's GPIO sees it (open drain:
// low while active, then the pull-up the host configures).
func (e *Emulator) FD() *pintest.Pin { return e.fd }

// Tx implements i2c.Bus: the write part (MEMA and data, or a register
// operation), then the read part, as the chip decodes them.
func (e *Emulator) Tx(addr uint16, w, r []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if addr != e.addr {
		return fmt.Errorf("%w: no device at %#x", ErrNAK, addr)
	}
	e.st.Tx++
	err := e.tx(w, r)
	if err != nil {
		e.st.NAKs++
	}
	return err
}

func (e *Emulator) tx(w, r []byte) error {
	if len(w) > 0 {
		if err := e.write(w); err != nil {
			return err
		}
	}
	if len(r) > 0 {
		return e.read(r)
	}
	return nil
}

func nak(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNAK}, a...)...)
}

func (e *Emulator) write(w []byte) error {
	mema := w[0]
	e.ptr, e.regPtr = -1, -1
	if mema == blockSession {
		switch len(w) {
		case 2: // register READ, address phase
			if w[1] > regFixed {
				return nak("REGA %#02x beyond the 8 session registers", w[1])
			}
			e.regPtr = int(w[1])
			return nil
		case 4: // register WRITE: REGA, MASK, REGDAT
			return e.writeReg(w[1], w[2], w[3])
		}
		return nak("%d-byte write to the session registers; want 2 (read) or 4 (masked write)", len(w))
	}
	switch len(w) {
	case 1:
		if err := e.access(mema); err != nil {
			return err
		}
		e.ptr = int(mema)
		return nil
	case 1 + blockSize:
		if err := e.access(mema); err != nil {
			return err
		}
		e.writeBlock(mema, w[1:])
		return nil
	}
	return nak("%d-byte write at block %#02x; want MEMA alone or MEMA and 16 bytes", len(w), mema)
}

// access checks that block exists and the memory may be accessed by I²C now,
// and takes the I²C lock as the chip's arbiter does.
func (e *Emulator) access(block byte) error {
	sram := block >= sramFirst && block <= sramLast
	if block > e.configBlock() && !sram {
		return nak("block %#02x does not exist on the %s", block, e)
	}
	now := e.now()
	if !sram && now.Before(e.busyUntil) {
		return nak("EEPROM write in progress")
	}
	if e.rfLocked {
		return nak("memory held by the RF interface")
	}
	e.i2cLocked, e.i2cLockAt = true, now
	return nil
}

func (e *Emulator) read(r []byte) error {
	switch {
	case e.regPtr >= 0:
		if len(r) != 1 {
			return nak("%d-byte register read; the chip returns 1 byte", len(r))
		}
		r[0] = e.reg(e.regPtr)
		e.regPtr = -1
		return nil
	case e.ptr >= 0:
		if len(r) != blockSize {
			return nak("%d-byte block read; want 16", len(r))
		}
		b := byte(e.ptr)
		e.ptr = -1
		if err := e.access(b); err != nil {
			return err
		}
		copy(r, e.block(b))
		if b == 0 {
			r[0] = 0x04 // the address byte reads as the NXP manufacturer ID
		}
		return nil
	}
	return nak("read with no block or register address")
}

func (e *Emulator) block(b byte) []byte {
	if b >= sramFirst && b <= sramLast {
		off := int(b-sramFirst) * blockSize
		return e.sram[off : off+blockSize]
	}
	return e.mem[int(b)*blockSize : (int(b)+1)*blockSize]
}

func (e *Emulator) writeBlock(b byte, data []byte) {
	e.st.BlockWrites++
	dst := e.block(b)
	if b >= sramFirst {
		copy(dst, data)
		return
	}
	e.busyUntil = e.now().Add(e.writeTime)
	if e.failNext {
		e.failNext, e.wrErr = false, true
		return
	}
	if b != 0 {
		copy(dst, data)
		return
	}
	// Block 0: byte 0 is the I²C address (8-bit form), bytes 1..9 are
	// read-only, the static lock bits 10..11 can only be set, 12..15 the CC.
	if data[0] != dst[0] {
		e.st.AddressChanges++
	}
	dst[0] = data[0]
	e.addr = uint16(data[0] >> 1)
	dst[10] |= data[10]
	dst[11] |= data[11]
	copy(dst[12:], data[12:16])
}

// ns computes NS_REG now; e.mu is held.
func (e *Emulator) ns() byte {
	now := e.now()
	var v byte
	if e.field {
		v |= nsField
	}
	if now.Before(e.busyUntil) {
		v |= nsBusy
	}
	if e.wrErr {
		v |= nsWrErr
	}
	if e.rfLocked {
		v |= nsRFLock
	}
	if e.i2cLockHeld(now) {
		v |= nsI2CLock
	}
	return v
}

// i2cLockHeld applies the watchdog: the lock lapses WDT after the last access.
func (e *Emulator) i2cLockHeld(now time.Time) bool {
	if !e.i2cLocked {
		return false
	}
	wdt := time.Duration(int(e.session[regWDTMS])<<8|int(e.session[regWDTLS])) * wdtTick
	if now.Sub(e.i2cLockAt) >= wdt {
		e.i2cLocked = false
	}
	return e.i2cLocked
}

func (e *Emulator) reg(i int) byte {
	switch i {
	case regNS:
		return e.ns()
	case regFixed:
		return 0
	}
	return e.session[i]
}

// writeReg is the masked register WRITE: bits in mask take REGDAT's value,
// where the datasheet makes them writable.
func (e *Emulator) writeReg(rega, mask, data byte) error {
	switch rega {
	case regNS:
		// Only I2C_LOCKED and EEPROM_WR_ERR, and only to clear them.
		if mask&nsI2CLock != 0 && data&nsI2CLock == 0 {
			e.i2cLocked = false
		}
		if mask&nsWrErr != 0 && data&nsWrErr == 0 {
			e.wrErr = false
		}
		return nil
	case regFixed:
		return nil
	case regClkStr:
		mask &= 0x01 // I2C_CLOCK_STR: bit 0 only
	}
	if rega > regFixed {
		return nak("REGA %#02x beyond the 8 session registers", rega)
	}
	e.session[rega] = e.session[rega]&^mask | data&mask
	if rega == regNC {
		e.updateFD()
	}
	return nil
}

// updateFD drives the FD pin from the field and NC_REG FD_ON; e.mu is held.
// A field that is present counts as switched on, SoF and selection alike.
func (e *Emulator) updateFD() {
	if e.field && e.session[regNC]&fdOnMask != fdOnPTData {
		e.fd.Set(gpio.Low)
	} else {
		e.fd.Release()
	}
}
