package ntagtest

import (
	"errors"
	"fmt"
)

// ErrNoField is returned by RF-side calls while no phone is in the field.
var ErrNoField = errors.New("ntagtest: no phone in the field")

// ErrI2CLocked means the host holds the memory (NS_REG I2C_LOCKED), so the
// phone's commands fail.
var ErrI2CLocked = errors.New("ntagtest: memory held by the I²C interface (I2C_LOCKED)")

// PhoneTap brings a phone's field: RF_FIELD_PRESENT is set and FD is pulled low.
func (e *Emulator) PhoneTap() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.field = true
	e.updateFD()
}

// PhoneLeave removes the field, which also ends any RF lock.
func (e *Emulator) PhoneLeave() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.field = false
	e.rfLocked = false
	e.updateFD()
}

// RFLock makes the phone hold the memory (RF_LOCKED), as during a long NFC
// exchange. It fails while the host holds it or no phone is present.
func (e *Emulator) RFLock() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.field {
		return ErrNoField
	}
	if e.i2cLockHeld(e.now()) {
		return ErrI2CLocked
	}
	e.rfLocked = true
	return nil
}

// RFUnlock ends the phone's hold on the memory.
func (e *Emulator) RFUnlock() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rfLocked = false
}

// RFReadNDEF reads the tag as a phone does (NFC Forum Type 2 Tag operation):
// the capability container, then the TLVs of the data area it announces
// from page 4 (I²C block 1), returning the first NDEF message.
func (e *Emulator) RFReadNDEF() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.field {
		return nil, ErrNoField
	}
	if e.i2cLockHeld(e.now()) {
		return nil, ErrI2CLocked
	}
	if e.now().Before(e.busyUntil) {
		return nil, errors.New("ntagtest: RF read during an EEPROM write cycle")
	}
	cc := e.mem[12:16]
	if cc[0] != 0xE1 {
		return nil, fmt.Errorf("ntagtest: CC magic %02Xh, not E1h: not NDEF formatted", cc[0])
	}
	if cc[1]>>4 != 1 {
		return nil, fmt.Errorf("ntagtest: CC mapping version %d.%d not supported", cc[1]>>4, cc[1]&0xF)
	}
	if cc[3]>>4 != 0 {
		return nil, fmt.Errorf("ntagtest: CC read access %Xh: no read access", cc[3]>>4)
	}
	size := int(cc[2]) * 8
	if max := e.UserMemory(); size > max {
		size = max
	}
	area := e.mem[blockSize : blockSize+size]
	for i := 0; i < len(area); {
		t := area[i]
		switch t {
		case 0x00:
			i++
			continue
		case 0xFE:
			return nil, errors.New("ntagtest: terminator TLV before any NDEF TLV")
		}
		if i+1 >= len(area) {
			return nil, fmt.Errorf("ntagtest: TLV %02Xh at %d has no length", t, i)
		}
		n, hdr := int(area[i+1]), 2
		if n == 0xFF {
			if i+3 >= len(area) {
				return nil, fmt.Errorf("ntagtest: TLV %02Xh at %d: truncated length", t, i)
			}
			n, hdr = int(area[i+2])<<8|int(area[i+3]), 4
		}
		if i+hdr+n > len(area) {
			return nil, fmt.Errorf("ntagtest: TLV %02Xh at %d: length %d past the data area (%d bytes)", t, i, n, len(area))
		}
		if t == 0x03 {
			return append([]byte{}, area[i+hdr:i+hdr+n]...), nil
		}
		i += hdr + n
	}
	return nil, errors.New("ntagtest: no NDEF TLV in the data area")
}

// Addr is the I²C address the chip answers at now.
func (e *Emulator) Addr() uint16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// NS is NS_REG as the host would read it now.
func (e *Emulator) NS() byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ns()
}

// Session is session register rega (0..7) as the host would read it.
func (e *Emulator) Session(rega int) byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rega < 0 || rega > regFixed {
		return 0
	}
	return e.reg(rega)
}

// Block is the raw content of EEPROM block b, with block 0 byte 0 as stored
// (the address byte, not the 04h a read returns).
func (e *Emulator) Block(b byte) [blockSize]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out [blockSize]byte
	if b <= e.configBlock() || b >= sramFirst && b <= sramLast {
		copy(out[:], e.block(b))
	}
	return out
}

// LoadUserMemory puts data into user memory from block 1 directly, as if it
// had been written long ago (no busy time, no lock); the rest is untouched.
func (e *Emulator) LoadUserMemory(data []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(data) > e.UserMemory() {
		return fmt.Errorf("ntagtest: %d bytes do not fit the %d bytes of user memory", len(data), e.UserMemory())
	}
	copy(e.mem[blockSize:], data)
	return nil
}

// FailNextWrite makes the next EEPROM block write fail with EEPROM_WR_ERR
// (the high-voltage error of a write at too low supply).
func (e *Emulator) FailNextWrite() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failNext = true
}

// Stats returns the bus counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st
}
