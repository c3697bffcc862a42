package vl53l1xtest

import (
	"errors"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// ULD default configuration for 0x2D..0x87 (long mode, 100 ms, 16x16@199,
// interrupt active high on new sample).
var uldConfig = []byte{
	0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x02, 0x08, 0x00, 0x08, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00,
	0x00, 0xff, 0x00, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x0b, 0x00, 0x00, 0x02, 0x0a, 0x21,
	0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x38, 0xff, 0x01, 0x00, 0x08, 0x00,
	0x00, 0x01, 0xcc, 0x0f, 0x01, 0xf1, 0x0d, 0x01, 0x68, 0x00, 0x80, 0x08, 0xb8, 0x00, 0x00, 0x00,
	0x00, 0x0f, 0x89, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x0d, 0x0e, 0x0e, 0x00,
	0x00, 0x02, 0xc7, 0xff, 0x9B, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
}

type chip struct {
	t   *testing.T
	clk *FakeClock
	e   *Emulator
}

func newChip(t *testing.T, o Options) *chip {
	clk := NewFakeClock(t0)
	o.Clock = clk
	if o.Scene == nil {
		o.Scene = func(r ROI, _ time.Time) (int, int) { return 1000 + int(r.Center), 0 }
	}
	c := &chip{t: t, clk: clk, e: New(&o)}
	return c
}

func (c *chip) write(reg uint16, data ...byte) {
	c.t.Helper()
	if err := c.e.Tx(0x29, append([]byte{byte(reg >> 8), byte(reg)}, data...), nil); err != nil {
		c.t.Fatal(err)
	}
}

func (c *chip) read(reg uint16, n int) []byte {
	c.t.Helper()
	b := make([]byte, n)
	if err := c.e.Tx(0x29, []byte{byte(reg >> 8), byte(reg)}, b); err != nil {
		c.t.Fatal(err)
	}
	return b
}

func (c *chip) ready() bool { return c.read(0x0031, 1)[0]&1 == 1 }

func (c *chip) distance() int {
	b := c.read(0x0096, 2)
	return int(b[0])<<8 | int(b[1])
}

func TestBootAndIdentity(t *testing.T) {
	c := newChip(t, Options{})
	if got := c.read(0x010F, 2); got[0] != 0xEA || got[1] != 0xCC {
		t.Errorf("model id % x", got)
	}
	if c.read(0x00E5, 1)[0] != 0 {
		t.Error("booted at power-up")
	}
	c.clk.Advance(1200 * time.Microsecond)
	if c.read(0x00E5, 1)[0] != 1 {
		t.Error("not booted after tBOOT")
	}
	// Writes to the model id are ignored.
	c.write(0x010F, 0x12, 0x34)
	if got := c.read(0x010F, 2); got[0] != 0xEA {
		t.Errorf("model id written: % x", got)
	}
	// Reads beyond the map and a 1-byte index fail.
	if err := c.e.Tx(0x29, []byte{0x01, 0xFF}, make([]byte, 2)); err == nil {
		t.Error("read beyond the register map succeeded")
	}
	if err := c.e.Tx(0x29, []byte{0x01}, nil); err == nil {
		t.Error("1-byte index accepted")
	}
	if err := c.e.SetSpeed(400 * physic.KiloHertz); err != nil {
		t.Error(err)
	}
	if err := c.e.SetSpeed(2 * physic.MegaHertz); err == nil {
		t.Error("2 MHz accepted")
	}
	if err := c.e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.e.Tx(0x29, []byte{0, 0}, make([]byte, 1)); err == nil {
		t.Error("Tx after Close succeeded")
	}
}

func TestRangingHoldsUntilClear(t *testing.T) {
	c := newChip(t, Options{})
	c.write(0x002D, uldConfig...)
	c.write(0x0087, 0x40)
	c.clk.Advance(99 * time.Millisecond)
	if c.ready() {
		t.Fatal("ready before the 100 ms budget")
	}
	c.clk.Advance(time.Millisecond)
	if !c.ready() || c.distance() != 1199 {
		t.Fatalf("after 100 ms: ready %v, %d mm", c.ready(), c.distance())
	}
	// Without a clear nothing more happens.
	c.clk.Advance(time.Second)
	if n := c.e.Measurements(); n != 1 {
		t.Fatalf("%d measurements without a clear, want 1", n)
	}
	c.write(0x0086, 0x01)
	if c.ready() {
		t.Error("still ready after the clear")
	}
	c.clk.Advance(100 * time.Millisecond)
	if !c.ready() || c.e.Measurements() != 2 {
		t.Error("no second measurement 100 ms after the clear")
	}
	// Stream count is 2.
	if s := c.read(0x008B, 1)[0]; s != 2 {
		t.Errorf("stream count %d", s)
	}
}

func TestFreeRunningOverwrites(t *testing.T) {
	c := newChip(t, Options{FreeRunning: true})
	c.write(0x002D, uldConfig...)
	c.write(0x0087, 0x40)
	c.clk.Advance(350 * time.Millisecond)
	if n := c.e.Measurements(); n != 3 {
		t.Fatalf("%d measurements in 350 ms free running, want 3", n)
	}
	if s := c.read(0x008B, 1)[0]; s != 3 || !c.ready() {
		t.Errorf("stream count %d ready %v", s, c.ready())
	}
}

// TestROILatchedAtStart: a ROI written while a measurement runs (after its
// latch) is used by the next one only; one written within LatchDelay of the
// start is used at once.
func TestROILatchedAtStart(t *testing.T) {
	c := newChip(t, Options{FreeRunning: true, LatchDelay: 2 * time.Millisecond})
	c.write(0x002D, uldConfig...)
	c.write(0x0087, 0x40)
	c.write(0x007F, 167, 0xF7) // within the latch delay: this measurement
	c.clk.Advance(50 * time.Millisecond)
	c.write(0x007F, 231, 0xF7) // mid-measurement: the next one
	c.clk.Advance(50 * time.Millisecond)
	if d := c.distance(); d != 1167 {
		t.Errorf("first measurement %d mm, want 1167 (ROI 167 latched at start)", d)
	}
	c.clk.Advance(100 * time.Millisecond)
	if d := c.distance(); d != 1231 {
		t.Errorf("second measurement %d mm, want 1231", d)
	}
}

func TestInterruptPolarityAndGPIO1(t *testing.T) {
	c := newChip(t, Options{})
	cfg := append([]byte(nil), uldConfig...)
	cfg[0x30-0x2D] = 0x11 // active low
	c.write(0x002D, cfg...)
	pin := c.e.GPIO1()
	if err := pin.In(gpio.PullNoChange, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	c.write(0x0087, 0x40)
	if !c.ready() || pin.Read() != gpio.High { // bit 0 and pin idle high
		t.Fatalf("active low, no data: TIO bit %v, pin %v", c.ready(), pin.Read())
	}
	start := c.clk.Now()
	if !pin.WaitForEdge(time.Second) {
		t.Fatal("no edge")
	}
	if el := c.clk.Now().Sub(start); el != 100*time.Millisecond {
		t.Errorf("edge after %v, want 100ms", el)
	}
	if c.ready() || pin.Read() != gpio.Low {
		t.Error("active low with data: bit 0 and pin should read 0")
	}
	if pin.WaitForEdge(50 * time.Millisecond) {
		t.Error("second edge without a clear")
	}
}

func TestMisconfiguredDoesNotRange(t *testing.T) {
	c := newChip(t, Options{})
	c.write(0x0087, 0x40) // no configuration loaded
	c.clk.Advance(time.Second)
	if c.ready() || c.e.Fault() == "" {
		t.Errorf("ranged without configuration; fault %q", c.e.Fault())
	}
	c = newChip(t, Options{})
	cfg := append([]byte(nil), uldConfig...)
	cfg[0x5E-0x2D+1] = 0xCD // TIMEOUT_MACROP_A 0x01CD: no budget
	c.write(0x002D, cfg...)
	c.write(0x0087, 0x40)
	c.clk.Advance(time.Second)
	if c.ready() || c.e.Fault() == "" {
		t.Errorf("ranged with a bad timing budget; fault %q", c.e.Fault())
	}
}

func TestAddressAndXShut(t *testing.T) {
	c := newChip(t, Options{})
	c.write(0x0001, 0x30)
	if err := c.e.Tx(0x29, []byte{0x01, 0x0F}, make([]byte, 2)); !errors.Is(err, ErrNAK) {
		t.Errorf("old address answered: %v", err)
	}
	if err := c.e.Tx(0x30, []byte{0x01, 0x0F}, make([]byte, 2)); err != nil {
		t.Errorf("new address: %v", err)
	}
	x := c.e.XShut()
	if err := x.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if err := c.e.Tx(0x30, []byte{0x01, 0x0F}, make([]byte, 2)); !errors.Is(err, ErrNAK) {
		t.Errorf("powered-down chip answered: %v", err)
	}
	if err := x.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if c.e.Addr() != 0x29 || c.read(0x00E5, 1)[0] != 0 {
		t.Error("after XSHUT the chip should be back at 0x29 and booting")
	}
}

func TestBusWiredAND(t *testing.T) {
	clk := NewFakeClock(t0)
	a := New(&Options{Clock: clk, ModelID: 0xEACC})
	b := New(&Options{Clock: clk, ModelID: 0x1234})
	bus := NewBus(a, b)
	r := make([]byte, 2)
	if err := bus.Tx(0x29, []byte{0x01, 0x0F}, r); err != nil {
		t.Fatal(err)
	}
	if r[0] != 0xEA&0x12 || r[1] != 0xCC&0x34 {
		t.Errorf("two chips answering: % x, want the wired AND", r)
	}
	if err := bus.Tx(0x52, []byte{0, 0}, r); !errors.Is(err, ErrNAK) {
		t.Errorf("empty address: %v", err)
	}
}

func TestROIBounds(t *testing.T) {
	for _, c := range []struct {
		r  ROI
		ok bool
	}{
		{ROI{16, 16, 199}, true}, {ROI{8, 16, 167}, true}, {ROI{8, 16, 231}, true},
		{ROI{4, 4, 199}, true}, {ROI{16, 16, 167}, false}, {ROI{4, 4, 0}, false}, {ROI{3, 4, 199}, false},
	} {
		if _, _, _, _, ok := c.r.Bounds(); ok != c.ok {
			t.Errorf("%+v fits = %v, want %v", c.r, ok, c.ok)
		}
	}
	if x, y := (ROI{Center: 128}).CenterXY(); x != 0 || y != 0 {
		t.Errorf("SPAD 128 at %d,%d", x, y)
	}
	if x, y := (ROI{Center: 0}).CenterXY(); x != 15 || y != 15 {
		t.Errorf("SPAD 0 at %d,%d", x, y)
	}
}
