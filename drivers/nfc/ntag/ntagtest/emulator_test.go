package ntagtest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEmu(twoK bool) (*Emulator, *clock) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	return New(&Opts{TwoK: twoK, Now: c.Now, Serial: [6]byte{0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6}}), c
}

func readBlock(t *testing.T, e *Emulator, addr uint16, b byte) ([]byte, error) {
	t.Helper()
	if err := e.Tx(addr, []byte{b}, nil); err != nil {
		return nil, err
	}
	r := make([]byte, 16)
	return r, e.Tx(addr, nil, r)
}

func readReg(t *testing.T, e *Emulator, rega byte) byte {
	t.Helper()
	var r [1]byte
	if err := e.Tx(0x55, []byte{0xFE, rega}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Tx(0x55, nil, r[:]); err != nil {
		t.Fatal(err)
	}
	return r[0]
}

func TestFactoryState(t *testing.T) {
	for _, tc := range []struct {
		twoK bool
		cc   byte
		cfg  byte
	}{{false, 0x6D, 0x3A}, {true, 0xEA, 0x7A}} {
		e, _ := newEmu(tc.twoK)
		b0, err := readBlock(t, e, 0x55, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []byte{0x04, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0, 0, 0, 0, 0, 0xE1, 0x10, tc.cc, 0x00}
		if !bytes.Equal(b0, want) {
			t.Errorf("%s block 0 = % X, want % X", e, b0, want)
		}
		b1, _ := readBlock(t, e, 0x55, 1)
		if !bytes.Equal(b1[:3], []byte{0x03, 0x00, 0xFE}) {
			t.Errorf("%s block 1 = % X, want an empty NDEF TLV", e, b1)
		}
		cfg, err := readBlock(t, e, 0x55, tc.cfg)
		if err != nil || !bytes.Equal(cfg[:8], []byte{0x01, 0x00, 0xF8, 0x48, 0x08, 0x01, 0x00, 0x00}) {
			t.Errorf("%s config block %02Xh = % X, %v", e, tc.cfg, cfg, err)
		}
		if _, err := readBlock(t, e, 0x55, tc.cfg+1); !errors.Is(err, ErrNAK) {
			t.Errorf("%s block %02Xh: %v, want NAK", e, tc.cfg+1, err)
		}
		for rega, want := range []byte{0x01, 0x00, 0xF8, 0x48, 0x08, 0x01} {
			if got := readReg(t, e, byte(rega)); got != want {
				t.Errorf("%s session register %d = %02Xh, want %02Xh", e, rega, got, want)
			}
		}
	}
}

func TestAddressTrap(t *testing.T) {
	e, c := newEmu(false)
	b0, _ := readBlock(t, e, 0x55, 0)
	b0[0] = 0x04 // writing back what was read moves the chip to 0x02
	if err := e.Tx(0x55, append([]byte{0x00}, b0...), nil); err != nil {
		t.Fatal(err)
	}
	if e.Addr() != 0x02 || e.Stats().AddressChanges != 1 {
		t.Fatalf("Addr() = %#x, Stats %+v", e.Addr(), e.Stats())
	}
	if err := e.Tx(0x55, []byte{0xFE, 0x06}, nil); !errors.Is(err, ErrNAK) {
		t.Fatalf("old address still answers: %v", err)
	}
	c.Advance(5 * time.Millisecond)
	got, err := readBlock(t, e, 0x02, 0)
	if err != nil || got[0] != 0x04 {
		t.Fatalf("block 0 at the new address = % X, %v", got, err)
	}
	// Serial number bytes are read-only, lock bits only set.
	got[0], got[1], got[10] = 0xAA, 0xFF, 0x01
	if err := e.Tx(0x02, append([]byte{0x00}, got...), nil); err != nil {
		t.Fatal(err)
	}
	raw := e.Block(0)
	if e.Addr() != 0x55 || raw[1] != 0xA1 || raw[10] != 0x01 {
		t.Fatalf("after restoring: addr %#x, block 0 = % X", e.Addr(), raw)
	}
}

func TestEEPROMBusyNAKs(t *testing.T) {
	e, c := newEmu(false)
	blk := append([]byte{0x05}, bytes.Repeat([]byte{0x5A}, 16)...)
	if err := e.Tx(0x55, blk, nil); err != nil {
		t.Fatal(err)
	}
	// Registers answer during the write cycle, with EEPROM_WR_BUSY set.
	if ns := readReg(t, e, 6); ns&nsBusy == 0 {
		t.Fatalf("NS_REG = %02Xh during the write, want EEPROM_WR_BUSY", ns)
	}
	if _, err := readBlock(t, e, 0x55, 5); !errors.Is(err, ErrNAK) {
		t.Fatalf("block read during the write: %v, want NAK", err)
	}
	if err := e.Tx(0x55, blk, nil); !errors.Is(err, ErrNAK) {
		t.Fatalf("block write during the write: %v, want NAK", err)
	}
	c.Advance(4 * time.Millisecond)
	if ns := readReg(t, e, 6); ns&nsBusy != 0 {
		t.Fatalf("NS_REG = %02Xh after 4 ms", ns)
	}
	got, err := readBlock(t, e, 0x55, 5)
	if err != nil || !bytes.Equal(got, blk[1:]) {
		t.Fatalf("block 5 = % X, %v", got, err)
	}
	// SRAM has no write cycle.
	sram := append([]byte{0xF8}, bytes.Repeat([]byte{0x11}, 16)...)
	if err := e.Tx(0x55, sram, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := readBlock(t, e, 0x55, 0xF8); err != nil || got[0] != 0x11 {
		t.Fatalf("SRAM read = % X, %v", got, err)
	}
}

func TestRFLockedNAKs(t *testing.T) {
	e, c := newEmu(false)
	if err := e.RFLock(); !errors.Is(err, ErrNoField) {
		t.Fatalf("RFLock without a phone: %v", err)
	}
	e.PhoneTap()
	if err := e.RFLock(); err != nil {
		t.Fatal(err)
	}
	if ns := readReg(t, e, 6); ns != nsField|nsRFLock {
		t.Fatalf("NS_REG = %02Xh, want RF_FIELD_PRESENT|RF_LOCKED", ns)
	}
	if _, err := readBlock(t, e, 0x55, 1); !errors.Is(err, ErrNAK) {
		t.Fatalf("block read while RF_LOCKED: %v, want NAK", err)
	}
	e.PhoneLeave() // the field going ends the RF lock
	if _, err := readBlock(t, e, 0x55, 1); err != nil {
		t.Fatal(err)
	}
	if ns := readReg(t, e, 6); ns != nsI2CLock {
		t.Fatalf("NS_REG = %02Xh after an I²C read, want I2C_LOCKED", ns)
	}
	// Watchdog: WDT_MS:WDT_LS = 0848h × 9.43 µs = 19.99 ms.
	c.Advance(19 * time.Millisecond)
	if ns := readReg(t, e, 6); ns&nsI2CLock == 0 {
		t.Fatal("I2C_LOCKED gone before the watchdog")
	}
	c.Advance(time.Millisecond)
	if ns := readReg(t, e, 6); ns&nsI2CLock != 0 {
		t.Fatal("I2C_LOCKED still set after the watchdog")
	}
}

func TestMaskedRegisterWrite(t *testing.T) {
	e, _ := newEmu(false)
	// NC_REG 01h, MASK 0Ch, REGDAT FFh: only FD_ON changes.
	if err := e.Tx(0x55, []byte{0xFE, 0x00, 0x0C, 0xFF}, nil); err != nil {
		t.Fatal(err)
	}
	if got := readReg(t, e, 0); got != 0x0D {
		t.Fatalf("NC_REG = %02Xh, want 0Dh", got)
	}
	// I2C_CLOCK_STR: only bit 0 is writable.
	_ = e.Tx(0x55, []byte{0xFE, 0x05, 0xFF, 0xFE}, nil)
	if got := readReg(t, e, 5); got != 0x00 {
		t.Fatalf("I2C_CLOCK_STR = %02Xh, want 00h", got)
	}
	// NS_REG: writing 1s sets nothing.
	_ = e.Tx(0x55, []byte{0xFE, 0x06, 0xFF, 0xFF}, nil)
	if got := readReg(t, e, 6); got != 0 {
		t.Fatalf("NS_REG = %02Xh after writing FFh, want 00h", got)
	}
	// Malformed operations are not acknowledged.
	for _, w := range [][]byte{{0xFE}, {0xFE, 0x08}, {0xFE, 0x00, 0x01}, {0xFE, 0x09, 0xFF, 0x00}, {0x01, 0x02}} {
		if err := e.Tx(0x55, w, nil); !errors.Is(err, ErrNAK) {
			t.Errorf("Tx(% X) = %v, want NAK", w, err)
		}
	}
	if err := e.Tx(0x55, []byte{0xFE, 0x06}, make([]byte, 2)); !errors.Is(err, ErrNAK) {
		t.Errorf("2-byte register read = %v, want NAK", err)
	}
	if err := e.Tx(0x55, nil, make([]byte, 16)); !errors.Is(err, ErrNAK) {
		t.Errorf("read without MEMA = %v, want NAK", err)
	}
	if err := e.SetSpeed(1 * physic.MegaHertz); err == nil {
		t.Error("SetSpeed(1 MHz) accepted")
	}
}

func TestFDFollowsField(t *testing.T) {
	e, _ := newEmu(false)
	fd := e.FD()
	if err := fd.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	e.PhoneTap()
	if fd.Read() != gpio.Low || !fd.WaitForEdge(0) {
		t.Fatal("no falling edge on tap")
	}
	e.PhoneLeave()
	if fd.Read() != gpio.High || !fd.WaitForEdge(0) {
		t.Fatal("no rising edge on leave")
	}
}

func TestRFReadNDEF(t *testing.T) {
	e, _ := newEmu(true)
	if _, err := e.RFReadNDEF(); !errors.Is(err, ErrNoField) {
		t.Fatalf("RFReadNDEF without a phone: %v", err)
	}
	e.PhoneTap()
	msg := bytes.Repeat([]byte{0x42}, 300)
	mem := append([]byte{0x00, 0x02, 0x03, 0x01, 0x02, 0x03, 0x03, 0xFF, 0x01, 0x2C}, msg...)
	if err := e.LoadUserMemory(append(mem, 0xFE)); err != nil {
		t.Fatal(err)
	}
	got, err := e.RFReadNDEF()
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("RFReadNDEF = %d bytes, %v", len(got), err)
	}
	if err := e.LoadUserMemory(make([]byte, 1913)); err == nil {
		t.Fatal("LoadUserMemory beyond 1912 bytes accepted")
	}
}
