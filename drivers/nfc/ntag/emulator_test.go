package ntag_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"periph.io/x/conn/v3/gpio"
)

// clock is a manual clock shared by the emulator (Now) and the driver
// (Sleep), so EEPROM busy times and the watchdog run without waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
	// onSleep, if set, runs after each Sleep (outside the lock).
	onSleep func(n int)
	n       int
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.n++
	n, f := c.n, c.onSleep
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
}

func setup(t testing.TB, twoK bool, o *ntag.Opts) (*ntag.Dev, *ntagtest.Emulator, *clock) {
	t.Helper()
	c := newClock()
	emu := ntagtest.New(&ntagtest.Opts{TwoK: twoK, Now: c.Now, Serial: [6]byte{1, 2, 3, 4, 5, 6}})
	if o == nil {
		o = &ntag.Opts{}
	}
	o.Sleep = c.Sleep
	d, err := ntag.New(emu, o)
	if err != nil {
		t.Fatal(err)
	}
	return d, emu, c
}

func message(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + n)
	}
	return b
}

func TestEmulatorWriteThenPhoneReads(t *testing.T) {
	for _, twoK := range []bool{false, true} {
		d, emu, _ := setup(t, twoK, nil)
		capacity := d.Capacity()
		for _, n := range []int{0, 1, 13, 14, 29, 200, 254, 255, 300, 253, capacity - 5} {
			if n+3 > capacity && n < 0xFF || n+5 > capacity {
				continue
			}
			msg := message(n)
			if err := d.WriteNDEF(msg); err != nil {
				t.Fatalf("%v: WriteNDEF(%d bytes): %v", d, n, err)
			}
			if ns := ntag.NS(emu.NS()); ns&ntag.I2C_LOCKED != 0 {
				t.Fatalf("%v: NS_REG after WriteNDEF = %s: the phone is locked out", d, ns)
			}
			emu.PhoneTap()
			got, err := emu.RFReadNDEF()
			emu.PhoneLeave()
			if err != nil {
				t.Fatalf("%v: phone read after WriteNDEF(%d bytes): %v", d, n, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("%v: phone read %d bytes, want the %d written", d, len(got), n)
			}
			back, err := d.ReadNDEF()
			if err != nil || !bytes.Equal(back, msg) {
				t.Fatalf("%v: ReadNDEF after WriteNDEF(%d bytes) = %d bytes, %v", d, n, len(back), err)
			}
		}
	}
}

func TestEmulatorFactoryTag(t *testing.T) {
	d, _, _ := setup(t, false, nil)
	// A factory tag holds an empty NDEF TLV: an empty message, no error.
	msg, err := d.ReadNDEF()
	if err != nil || len(msg) != 0 {
		t.Fatalf("ReadNDEF() on a factory tag = % X, %v", msg, err)
	}
	cc, err := d.CapabilityContainer()
	if err != nil || cc != ntag.CC1k {
		t.Fatalf("CapabilityContainer() = %s, %v", cc, err)
	}
}

func TestEmulatorRFLockedRefusedThenRetried(t *testing.T) {
	d, emu, c := setup(t, false, &ntag.Opts{LockTimeout: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	emu.PhoneTap()
	if err := emu.RFLock(); err != nil {
		t.Fatal(err)
	}
	before := emu.Stats()
	err := d.WriteNDEF([]byte("refused"))
	if !errors.Is(err, ntag.ErrRFLocked) {
		t.Fatalf("WriteNDEF while RF_LOCKED = %v, want ErrRFLocked", err)
	}
	if after := emu.Stats(); after.BlockWrites != before.BlockWrites || after.NAKs != before.NAKs {
		t.Fatalf("WriteNDEF touched the memory while RF_LOCKED: %+v -> %+v", before, after)
	}
	// The phone lets go after the driver's third poll: the write goes through.
	c.onSleep = func(n int) {
		if n == 3 {
			emu.RFUnlock()
		}
	}
	c.n = 0
	if err := d.WriteNDEF([]byte("retried")); err != nil {
		t.Fatalf("WriteNDEF after the phone let go: %v", err)
	}
	got, err := emu.RFReadNDEF()
	if err != nil || string(got) != "retried" {
		t.Fatalf("phone reads %q, %v", got, err)
	}
}

func TestEmulatorPhoneLockedOutWithoutRelease(t *testing.T) {
	// Bypass the driver: a memory read without clearing I2C_LOCKED shuts the
	// phone out until the watchdog (WDT 0848h × 9.43 µs ≈ 20 ms) expires.
	_, emu, c := setup(t, false, nil)
	if err := emu.Tx(0x55, []byte{0x01}, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	emu.PhoneTap()
	if _, err := emu.RFReadNDEF(); !errors.Is(err, ntagtest.ErrI2CLocked) {
		t.Fatalf("RFReadNDEF with I2C_LOCKED = %v, want ErrI2CLocked", err)
	}
	if err := emu.RFLock(); !errors.Is(err, ntagtest.ErrI2CLocked) {
		t.Fatalf("RFLock with I2C_LOCKED = %v, want ErrI2CLocked", err)
	}
	c.Sleep(21 * time.Millisecond)
	if _, err := emu.RFReadNDEF(); err != nil {
		t.Fatalf("RFReadNDEF after the watchdog: %v", err)
	}
}

func TestEmulatorAddressByteNeverChanges(t *testing.T) {
	for _, addr := range []uint16{0x55, 0x23} {
		c := newClock()
		emu := ntagtest.New(&ntagtest.Opts{Addr: addr, Now: c.Now})
		d, err := ntag.New(emu, &ntag.Opts{Addr: addr, Sleep: c.Sleep, FD: emu.FD()})
		if err != nil {
			t.Fatal(err)
		}
		steps := []func() error{
			func() error { return d.WriteNDEF(message(500)) },
			func() error { _, err := d.ReadNDEF(); return err },
			func() error { return d.WriteCapabilityContainer(ntag.CC1k) },
			func() error { _, err := d.CapabilityContainer(); return err },
			func() error { _, err := d.ReadBlock(0); return err },
			func() error { _, err := d.FieldPresent(); return err },
			func() error { _, err := d.WaitField(0); return err },
			func() error { return d.WriteNDEF(nil) },
			d.Halt,
		}
		for i, f := range steps {
			if err := f(); err != nil {
				t.Fatalf("addr %#x step %d: %v", addr, i, err)
			}
		}
		if st := emu.Stats(); st.AddressChanges != 0 || emu.Addr() != addr {
			t.Fatalf("address moved: %+v, now %#x", st, emu.Addr())
		}
		if b := emu.Block(0); b[0] != byte(addr<<1) {
			t.Fatalf("block 0 byte 0 = %02Xh, want %02Xh", b[0], byte(addr<<1))
		}
		blk, _ := d.ReadBlock(0)
		if blk[0] != 0x04 {
			t.Fatalf("block 0 byte 0 reads %02Xh, want 04h", blk[0])
		}
	}
}

func TestEmulatorTooLong(t *testing.T) {
	for _, twoK := range []bool{false, true} {
		d, emu, _ := setup(t, twoK, nil)
		limit := d.Capacity() - 5 // 3-byte length form
		if err := d.WriteNDEF(message(limit + 1)); !errors.Is(err, ntag.ErrTooLong) {
			t.Fatalf("%v: WriteNDEF(%d bytes) = %v, want ErrTooLong", d, limit+1, err)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("holds %d", d.Capacity())) {
			t.Errorf("error %q does not give the capacity", err)
		}
		if st := emu.Stats(); st.BlockWrites != 0 {
			t.Fatalf("%v: a refused message wrote %d blocks", d, st.BlockWrites)
		}
		if err := d.WriteNDEF(message(limit)); err != nil {
			t.Fatalf("%v: WriteNDEF(%d bytes): %v", d, limit, err)
		}
		// The dynamic lock bytes after the user memory are untouched.
		last := emu.Block(byte(0x38 + 0x40*btoi(twoK)))
		if !bytes.Equal(last[8:], []byte{0, 0, 0, 0, 0, 0, 0, 0xFF}) {
			t.Fatalf("%v: dynamic lock / AUTH0 block = % X", d, last)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEmulatorEEPROMWriteError(t *testing.T) {
	d, emu, _ := setup(t, false, nil)
	emu.FailNextWrite()
	if err := d.WriteNDEF([]byte("lost")); err == nil || !strings.Contains(err.Error(), "EEPROM_WR_ERR") {
		t.Fatalf("WriteNDEF with a failing EEPROM = %v", err)
	}
	if ns := ntag.NS(emu.NS()); ns&(ntag.EEPROM_WR_ERR|ntag.I2C_LOCKED) != 0 {
		t.Fatalf("NS_REG after the failed write = %s: error or lock left set", ns)
	}
	if err := d.WriteNDEF([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadNDEF(); err != nil || string(got) != "kept" {
		t.Fatalf("ReadNDEF = %q, %v", got, err)
	}
}

func TestEmulatorFDEdgeOnTap(t *testing.T) {
	d, emu, _ := setup(t, false, nil)
	fd := emu.FD()
	d, err := ntag.New(emu, &ntag.Opts{FD: fd})
	if err != nil {
		t.Fatal(err)
	}
	if got := ntag.NC_REG; emu.Session(int(got))&(ntag.FD_OFF_MASK|ntag.FD_ON_MASK) != 0 {
		t.Fatalf("NC_REG = %02Xh, want FD_OFF = FD_ON = 00b", emu.Session(0))
	}
	if fd.Read() != gpio.High {
		t.Fatal("FD low with no phone")
	}
	if ok, err := d.WaitField(10 * time.Millisecond); ok || err != nil {
		t.Fatalf("WaitField with no phone = %v, %v", ok, err)
	}
	done := make(chan bool)
	go func() {
		ok, _ := d.WaitField(5 * time.Second)
		done <- ok
	}()
	time.Sleep(5 * time.Millisecond) // let it block on the pin
	emu.PhoneTap()
	if !<-done {
		t.Fatal("WaitField missed the tap")
	}
	if st := fd.Stats(); st.Falling != 1 {
		t.Fatalf("FD falling edges = %d, want 1", st.Falling)
	}
	if ok, _ := d.FieldPresent(); !ok {
		t.Fatal("FieldPresent false during the tap")
	}
	if ok, _ := d.WaitField(0); !ok {
		t.Fatal("WaitField(0) false during the tap")
	}
	emu.PhoneLeave()
	if fd.Read() != gpio.High {
		t.Fatal("FD still low after the phone left")
	}
	// FD_ON = 11b (pass-through data ready) does not signal a plain field.
	if err := d.WriteRegister(ntag.NC_REG, ntag.FD_ON_MASK, ntag.FD_ON_MASK); err != nil {
		t.Fatal(err)
	}
	emu.PhoneTap()
	if fd.Read() != gpio.High {
		t.Fatal("FD low with FD_ON = 11b")
	}
}

func TestEmulatorPhoneReadingMidWriteSeesEmptyMessage(t *testing.T) {
	d, emu, c := setup(t, false, nil)
	if err := d.WriteNDEF([]byte("the old message, long enough for two blocks")); err != nil {
		t.Fatal(err)
	}
	// A watchdog of 16 × 9.43 µs lets the I²C lock lapse during each 4 ms
	// EEPROM wait, so the phone can read between two block writes.
	if err := d.WriteRegister(ntag.WDT_MS, 0xFF, 0x00); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteRegister(ntag.WDT_LS, 0xFF, 0x10); err != nil {
		t.Fatal(err)
	}
	var mid [][]byte
	c.onSleep = func(int) {
		emu.PhoneTap()
		defer emu.PhoneLeave()
		msg, err := emu.RFReadNDEF()
		if err != nil {
			t.Errorf("phone read mid-write: %v", err)
		}
		mid = append(mid, msg)
	}
	newMsg := message(300) // 3-byte length form: 20 blocks, block 1 twice
	if err := d.WriteNDEF(newMsg); err != nil {
		t.Fatal(err)
	}
	c.onSleep = nil
	if len(mid) != 21 {
		t.Fatalf("phone read %d times, want once after each of the 21 block writes", len(mid))
	}
	for i, m := range mid[:20] {
		if len(m) != 0 {
			t.Fatalf("phone read %d bytes after block write %d, want the empty message", len(m), i+1)
		}
	}
	if !bytes.Equal(mid[20], newMsg) {
		t.Fatalf("phone read %d bytes after the last write, want the new %d", len(mid[20]), len(newMsg))
	}
}
