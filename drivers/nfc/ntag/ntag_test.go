package ntag

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// block0 is block 0 as an NTAG I2C plus 1k returns it: 04h where the address
// byte is stored, serial number, internal bytes, static lock bytes, CC.
var block0 = []byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE1, 0x10, 0x6D, 0x00}

// newOps is the traffic of New on a 1k tag with no phone present.
func newOps() []i2ctest.IO {
	return []i2ctest.IO{
		// Arbitration: register READ of NS_REG (MEMA FEh, REGA 06h, STOP) ...
		{Addr: 0x55, W: []byte{0xFE, 0x06}},
		// ... then 1 byte: 00h, RF_LOCKED clear, the memory is free.
		{Addr: 0x55, R: []byte{0x00}},
		// MEMA 00h: block 0.
		{Addr: 0x55, W: []byte{0x00}},
		// 16 bytes: 04h (NXP), serial, lock bytes, CC E1 10 6D 00 (1k).
		{Addr: 0x55, R: block0},
		// Release the memory to RF: NS_REG, MASK 40h (I2C_LOCKED), REGDAT 00h.
		{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
		// NC_REG, MASK 3Ch (FD_OFF|FD_ON), REGDAT 00h: FD follows the field.
		{Addr: 0x55, W: []byte{0xFE, 0x00, 0x3C, 0x00}},
	}
}

// sleeps records the driver's pauses instead of sleeping.
type sleeps []time.Duration

func (s *sleeps) sleep(d time.Duration) { *s = append(*s, d) }

func newPlayback(t *testing.T, ops ...i2ctest.IO) (*Dev, *i2ctest.Playback, *sleeps) {
	t.Helper()
	bus := &i2ctest.Playback{Ops: append(newOps(), ops...), DontPanic: true}
	s := &sleeps{}
	d, err := New(bus, &Opts{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	return d, bus, s
}

func TestNew(t *testing.T) {
	d, bus, _ := newPlayback(t)
	if d.Version() != NT3H2111 {
		t.Errorf("Version() = %v, want NT3H2111", d.Version())
	}
	if got := d.Capacity(); got != 0x6D*8 {
		t.Errorf("Capacity() = %d, want 872 (CC 6Dh × 8)", got)
	}
	if s := d.String(); !strings.Contains(s, "NT3H2111") || !strings.Contains(s, "0x55") {
		t.Errorf("String() = %q", s)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNew2k(t *testing.T) {
	b0 := append([]byte{}, block0...)
	copy(b0[12:], CC2k[:])
	ops := newOps()
	ops[3].R = b0 // the same traffic, block 0 carries E1 10 EA 00
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version() != NT3H2211 || d.Capacity() != 0xEA*8 {
		t.Errorf("Version() = %v, Capacity() = %d; want NT3H2211, 1872", d.Version(), d.Capacity())
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewNotNTAG(t *testing.T) {
	ops := newOps()[:5] // no NC_REG write to a chip that is not ours
	ops[3].R = make([]byte, 16)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	_, err := New(bus, nil)
	if err == nil || !strings.Contains(err.Error(), "not 04h") {
		t.Fatalf("New() = %v, want a not-NXP error", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewUnknownCC(t *testing.T) {
	ops := newOps()[:5]
	b0 := append([]byte{}, block0...)
	copy(b0[12:], []byte{0, 0, 0, 0}) // unformatted
	ops[3].R = b0
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	if _, err := New(bus, nil); err == nil || !strings.Contains(err.Error(), "Opts.Variant") {
		t.Fatalf("New() = %v, want an error pointing at Opts.Variant", err)
	}
	// With the variant forced the same tag is usable, over its full blocks.
	bus = &i2ctest.Playback{Ops: newOps(), DontPanic: true}
	bus.Ops[3].R = b0
	d, err := New(bus, &Opts{Variant: NT3H2111})
	if err != nil {
		t.Fatal(err)
	}
	if d.Capacity() != 0x37*16 {
		t.Errorf("Capacity() = %d, want 880 (blocks 01h..37h)", d.Capacity())
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewBadOpts(t *testing.T) {
	for _, o := range []Opts{{Addr: 0x80}, {Variant: 7}, {LockTimeout: -1}} {
		if _, err := New(&i2ctest.Playback{DontPanic: true}, &o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
}

func TestFieldPresent(t *testing.T) {
	d, bus, _ := newPlayback(t,
		// Register READ of NS_REG: MEMA FEh, REGA 06h ...
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		// ... 41h: I2C_LOCKED and RF_FIELD_PRESENT.
		i2ctest.IO{Addr: 0x55, R: []byte{0x41}},
		// Again: 40h, the phone has gone.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x40}},
	)
	for _, want := range []bool{true, false} {
		got, err := d.FieldPresent()
		if err != nil || got != want {
			t.Errorf("FieldPresent() = %v, %v; want %v", got, err, want)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRegister(t *testing.T) {
	d, bus, _ := newPlayback(t,
		// Masked register WRITE: MEMA FEh, REGA 03h (WDT_LS), MASK FFh, REGDAT 10h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x03, 0xFF, 0x10}},
		// Only bit 0 of I2C_CLOCK_STR: MASK 01h, REGDAT 00h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x05, 0x01, 0x00}},
		// Register READ of WDT_LS.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x03}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x10}},
	)
	if err := d.WriteRegister(WDT_LS, 0xFF, 0x10); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteRegister(I2C_CLOCK_STR, 0x01, 0x00); err != nil {
		t.Fatal(err)
	}
	if v, err := d.ReadRegister(WDT_LS); err != nil || v != 0x10 {
		t.Fatalf("ReadRegister(WDT_LS) = %#x, %v", v, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadNDEF(t *testing.T) {
	msg := make([]byte, 40) // TLV 03h 28h + 40 bytes: spans blocks 1..3
	for i := range msg {
		msg[i] = byte(0xA0 + i)
	}
	mem := append([]byte{0x03, byte(len(msg))}, msg...)
	mem = append(mem, 0xFE)
	mem = append(mem, make([]byte, 48-len(mem))...)
	d, bus, _ := newPlayback(t,
		// Arbitration: NS_REG = 00h, RF_LOCKED clear.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		// Block 1: 03h (NDEF TLV), 28h (40 bytes), the first 14 bytes.
		i2ctest.IO{Addr: 0x55, W: []byte{0x01}},
		i2ctest.IO{Addr: 0x55, R: mem[0:16]},
		// Block 2: 16 more.
		i2ctest.IO{Addr: 0x55, W: []byte{0x02}},
		i2ctest.IO{Addr: 0x55, R: mem[16:32]},
		// Block 3: the last 10 and the terminator; block 4 is never read.
		i2ctest.IO{Addr: 0x55, W: []byte{0x03}},
		i2ctest.IO{Addr: 0x55, R: mem[32:48]},
		// Release the memory: NS_REG MASK 40h REGDAT 00h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	got, err := d.ReadNDEF()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("ReadNDEF() = % X, want % X", got, msg)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadNDEFSkipsControlTLVs(t *testing.T) {
	// NULL, a lock control TLV (01h, 3 bytes), NDEF TLV "hi", terminator.
	mem := []byte{0x00, 0x01, 0x03, 0xA0, 0x10, 0x44, 0x03, 0x02, 'h', 'i', 0xFE, 0, 0, 0, 0, 0}
	d, bus, _ := newPlayback(t,
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x55, W: []byte{0x01}},
		i2ctest.IO{Addr: 0x55, R: mem},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	got, err := d.ReadNDEF()
	if err != nil || string(got) != "hi" {
		t.Fatalf("ReadNDEF() = %q, %v", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadNDEFEmptyTag(t *testing.T) {
	d, bus, _ := newPlayback(t,
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		// Block 1 starts with the terminator TLV.
		i2ctest.IO{Addr: 0x55, W: []byte{0x01}},
		i2ctest.IO{Addr: 0x55, R: []byte{0xFE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		// The lock is released after a failure too.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	if _, err := d.ReadNDEF(); !errors.Is(err, ErrNoNDEF) {
		t.Fatalf("ReadNDEF() error = %v, want ErrNoNDEF", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteNDEF(t *testing.T) {
	msg := []byte("0123456789abcdefghij") // 20 bytes: TLV of 23 bytes, 2 blocks
	blk1 := append([]byte{0x03, 20}, msg[:14]...)
	blk1hold := append([]byte{0x03, 0x00}, msg[:14]...)
	blk2 := append(append([]byte{}, msg[14:]...), 0xFE, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	d, bus, s := newPlayback(t,
		// Arbitration: NS_REG = 00h, RF_LOCKED clear.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		// Block 1 with TLV length 0 first: a phone reading now sees an empty message.
		i2ctest.IO{Addr: 0x55, W: append([]byte{0x01}, blk1hold...)},
		// (sleep 4 ms) NS_REG = 40h: I2C_LOCKED, EEPROM_WR_BUSY clear.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x40}},
		// Block 2: the rest of the message and the terminator FEh.
		i2ctest.IO{Addr: 0x55, W: append([]byte{0x02}, blk2...)},
		// (sleep 4 ms) NS_REG = 42h: still EEPROM_WR_BUSY ...
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x42}},
		// ... (sleep 1 ms) 40h: done.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x40}},
		// Block 1 again with the real length 14h.
		i2ctest.IO{Addr: 0x55, W: append([]byte{0x01}, blk1...)},
		// (sleep 4 ms) NS_REG = 40h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x40}},
		// Release the memory: NS_REG MASK 40h REGDAT 00h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	if err := d.WriteNDEF(msg); err != nil {
		t.Fatal(err)
	}
	want := sleeps{4 * time.Millisecond, 4 * time.Millisecond, time.Millisecond, 4 * time.Millisecond}
	if len(*s) != len(want) {
		t.Fatalf("sleeps = %v, want %v", *s, want)
	}
	for i := range want {
		if (*s)[i] != want[i] {
			t.Fatalf("sleeps = %v, want %v", *s, want)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteNDEFOneBlock(t *testing.T) {
	// A message of up to 13 bytes fits block 1 with its TLV: one write.
	d, bus, _ := newPlayback(t,
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		// 03h 02h 'o' 'k' FEh, zero padded.
		i2ctest.IO{Addr: 0x55, W: []byte{0x01, 0x03, 0x02, 'o', 'k', 0xFE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x40}},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	if err := d.WriteNDEF([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteNDEFEEPROMError(t *testing.T) {
	d, bus, _ := newPlayback(t,
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x55, W: []byte{0x01, 0x03, 0x02, 'o', 'k', 0xFE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		// NS_REG = 44h: EEPROM_WR_ERR.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x44}},
		// Clear it: MASK 04h REGDAT 00h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x04, 0x00}},
		// Release the memory.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	if err := d.WriteNDEF([]byte("ok")); err == nil || !strings.Contains(err.Error(), "EEPROM_WR_ERR") {
		t.Fatalf("WriteNDEF() = %v, want an EEPROM_WR_ERR error", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteNDEFTooLong(t *testing.T) {
	d, bus, _ := newPlayback(t) // no traffic: refused before touching the bus
	err := d.WriteNDEF(make([]byte, 868))
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("WriteNDEF(868 bytes) = %v, want ErrTooLong", err)
	}
	for _, s := range []string{"868 bytes", "873 bytes", "holds 872"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRFLockedTimeout(t *testing.T) {
	ops := []i2ctest.IO{}
	// LockTimeout 30 ms / PollInterval 10 ms: 4 reads of NS_REG = 20h
	// (RF_LOCKED), 3 pauses, then ErrRFLocked with no memory access.
	for range 4 {
		ops = append(ops, i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}}, i2ctest.IO{Addr: 0x55, R: []byte{0x21}})
	}
	bus := &i2ctest.Playback{Ops: append(newOps(), ops...), DontPanic: true}
	s := &sleeps{}
	d, err := New(bus, &Opts{Sleep: s.sleep, LockTimeout: 30 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteNDEF([]byte("x")); !errors.Is(err, ErrRFLocked) {
		t.Fatalf("WriteNDEF() = %v, want ErrRFLocked", err)
	}
	if len(*s) != 3 {
		t.Errorf("slept %v, want 3 × 10ms", *s)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteCapabilityContainer(t *testing.T) {
	written := append([]byte{}, block0...)
	written[0] = 0xAA // 0x55<<1: the address stays 0x55
	copy(written[12:], CC2k[:])
	d, bus, _ := newPlayback(t,
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		// Read block 0: byte 0 reads 04h.
		i2ctest.IO{Addr: 0x55, W: []byte{0x00}},
		i2ctest.IO{Addr: 0x55, R: block0},
		// Write block 0 with byte 0 = AAh, not the 04h read, and the new CC.
		i2ctest.IO{Addr: 0x55, W: append([]byte{0x00}, written...)},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x40}},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	if err := d.WriteCapabilityContainer(CC2k); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteBlockZeroGuard(t *testing.T) {
	d, bus, _ := newPlayback(t)
	blk := append([]byte{}, block0...) // byte 0 = 04h would move the chip to 0x02
	if err := d.writeBlock(0, blk); err == nil || !strings.Contains(err.Error(), "I²C address") {
		t.Fatalf("writeBlock(0, 04h...) = %v, want a refusal", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWaitFieldPolling(t *testing.T) {
	d, bus, s := newPlayback(t,
		// Timeout 25 ms, PollInterval 10 ms: NS_REG 00h, 00h, then 01h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06}},
		i2ctest.IO{Addr: 0x55, R: []byte{0x01}},
	)
	ok, err := d.WaitField(25 * time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("WaitField() = %v, %v", ok, err)
	}
	if len(*s) != 2 {
		t.Errorf("slept %v, want 2 polls", *s)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHalt(t *testing.T) {
	d, bus, _ := newPlayback(t,
		// Halt releases the memory: NS_REG MASK 40h REGDAT 00h.
		i2ctest.IO{Addr: 0x55, W: []byte{0xFE, 0x06, 0x40, 0x00}},
	)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNSString(t *testing.T) {
	if s := (RF_FIELD_PRESENT | I2C_LOCKED).String(); s != "RF_FIELD_PRESENT|I2C_LOCKED" {
		t.Errorf("String() = %q", s)
	}
}

func TestWrapTLV(t *testing.T) {
	long := make([]byte, 300)
	got := wrapTLV(long)
	if !bytes.Equal(got[:4], []byte{0x03, 0xFF, 0x01, 0x2C}) || got[len(got)-1] != 0xFE || len(got) != tlvSize(300) {
		t.Errorf("wrapTLV(300 bytes) starts % X, len %d", got[:4], len(got))
	}
	if got := wrapTLV([]byte{0xAB}); !bytes.Equal(got, []byte{0x03, 0x01, 0xAB, 0xFE}) {
		t.Errorf("wrapTLV(AB) = % X", got)
	}
}
