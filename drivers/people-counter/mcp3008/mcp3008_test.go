package mcp3008

import (
	"fmt"
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

func playback(ops ...conntest.IO) *spitest.Playback {
	return &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
}

func TestReadEveryChannelExactBytes(t *testing.T) {
	bus := playback(
		// CH0: start bit, SGL=1 D2..D0=000; reply null bit 0, B9..B8=00, B7..B0=0x00 -> 0
		conntest.IO{W: []byte{0x01, 0x80, 0x00}, R: []byte{0x00, 0x00, 0x00}},
		// CH1: SGL=1 D=001 -> 0x90; reply B9..B8=01, 0x23 -> 0x123 = 291
		conntest.IO{W: []byte{0x01, 0x90, 0x00}, R: []byte{0x00, 0x01, 0x23}},
		// CH2: 0xA0; reply B9..B8=10, 0x00 -> 512
		conntest.IO{W: []byte{0x01, 0xA0, 0x00}, R: []byte{0x00, 0x02, 0x00}},
		// CH3: 0xB0; reply B9..B8=11, 0xFF -> 1023 (full scale)
		conntest.IO{W: []byte{0x01, 0xB0, 0x00}, R: []byte{0x00, 0x03, 0xFF}},
		// CH4: 0xC0; high-impedance bits before the null bit read 1 on a
		// pulled-up MISO (0xF8 in byte 1): they must be ignored -> 0x2AA = 682
		conntest.IO{W: []byte{0x01, 0xC0, 0x00}, R: []byte{0xFF, 0xFA, 0xAA}},
		// CH5: 0xD0 -> 0x155 = 341
		conntest.IO{W: []byte{0x01, 0xD0, 0x00}, R: []byte{0x00, 0x01, 0x55}},
		// CH6: 0xE0 -> 1
		conntest.IO{W: []byte{0x01, 0xE0, 0x00}, R: []byte{0x00, 0x00, 0x01}},
		// CH7: 0xF0 -> 0x380 = 896
		conntest.IO{W: []byte{0x01, 0xF0, 0x00}, R: []byte{0x00, 0x03, 0x80}},
	)
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 291, 512, 1023, 682, 341, 1, 896}
	for ch, w := range want {
		got, err := d.Read(ch)
		if err != nil {
			t.Fatalf("CH%d: %v", ch, err)
		}
		if got != w {
			t.Fatalf("CH%d = %d, want %d", ch, got, w)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadDiffExactBytes(t *testing.T) {
	bus := playback(
		// pair 0 (CH0-CH1): SGL=0 D=000 -> byte 1 is 0x00
		conntest.IO{W: []byte{0x01, 0x00, 0x00}, R: []byte{0x00, 0x01, 0x00}},
		// pair 7 (CH7-CH6): SGL=0 D=111 -> 0x70
		conntest.IO{W: []byte{0x01, 0x70, 0x00}, R: []byte{0x00, 0x00, 0x10}},
	)
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadDiff(0); err != nil || got != 256 {
		t.Fatalf("ReadDiff(0) = %d, %v; want 256", got, err)
	}
	if got, err := d.ReadDiff(7); err != nil || got != 16 {
		t.Fatalf("ReadDiff(7) = %d, %v; want 16", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNullBitHighIsAnError(t *testing.T) {
	bus := playback(
		// nothing on MISO but a pull-up: all ones, the null bit included
		conntest.IO{W: []byte{0x01, 0x80, 0x00}, R: []byte{0xFF, 0xFF, 0xFF}},
	)
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Read(0); err == nil || !strings.Contains(err.Error(), "null bit") {
		t.Fatalf("Read = %d, %v; want a null bit error, not full scale", v, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestChannelOutOfRange(t *testing.T) {
	bus := playback() // nothing may be sent
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []int{-1, 8, 100} {
		if _, err := d.Read(ch); err == nil || !strings.Contains(err.Error(), fmt.Sprint(ch)) {
			t.Errorf("Read(%d) = %v, want an error naming the channel", ch, err)
		}
		if _, err := d.ReadDiff(ch); err == nil {
			t.Errorf("ReadDiff(%d) accepted", ch)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptsValidation(t *testing.T) {
	for name, o := range map[string]Opts{
		"too fast": {MaxHz: 4 * physic.MegaHertz},
		"mode 1":   {Mode: spi.Mode1},
		"neg vref": {Vref: -1},
	} {
		if _, err := New(mcp3008test.New(3.3, nil), &o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("nil port accepted")
	}
}

func TestConnectParameters(t *testing.T) {
	chip := mcp3008test.New(3.3, nil)
	if _, err := New(chip, &Opts{Mode: spi.Mode3}); err != nil {
		t.Fatal(err)
	}
	if chip.Hz() != physic.MegaHertz {
		t.Fatalf("connected at %s, want the 1 MHz default", chip.Hz())
	}
}

// The same conversions, recorded against the emulator: the bytes the driver
// sends and the chip's answers for known voltages.
func TestRecordAgainstEmulator(t *testing.T) {
	in := []float64{0, 0.5, 1.0, 1.65, 2.0, 3.0, 3.29, 3.5}
	chip := mcp3008test.New(3.3, func(ch int) float64 { return in[ch] })
	rec := &spitest.Record{Port: chip}
	d, err := New(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	// code = floor(1024 * vin / 3.3), clipped at 1023
	want := []int{0, 155, 310, 512, 620, 930, 1020, 1023}
	for ch, w := range want {
		got, err := d.Read(ch)
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Fatalf("CH%d at %g V = %d, want %d", ch, in[ch], got, w)
		}
	}
	// CH3 at 1.65 V = half scale: the chip answered 0x02 0x00 after a
	// high-impedance first byte (zeros: no pull-up) and the null bit.
	op := rec.Ops[3]
	if string(op.W) != "\x01\xb0\x00" || string(op.R) != "\x00\x02\x00" {
		t.Fatalf("CH3 transfer W=% x R=% x, want W=01 b0 00 R=00 02 00", op.W, op.R)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatorDifferentialAndVolts(t *testing.T) {
	in := []float64{1.0, 0.5, 0, 0, 0, 0, 0, 0}
	chip := mcp3008test.New(3.3, func(ch int) float64 { return in[ch] })
	d, err := New(chip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := d.ReadDiff(0); got != 155 { // CH0-CH1 = 0.5 V
		t.Fatalf("ReadDiff(0) = %d, want 155", got)
	}
	if got, _ := d.ReadDiff(1); got != 0 { // CH1-CH0 is negative: 0
		t.Fatalf("ReadDiff(1) = %d, want 0", got)
	}
	v, err := d.ReadVolts(0)
	if err != nil || v < 0.99 || v > 1.0 {
		t.Fatalf("ReadVolts(0) = %g, %v; want just under 1 V", v, err)
	}
}

func TestEmulatorFloatingMISOCaught(t *testing.T) {
	chip := mcp3008test.New(3.3, func(int) float64 { return 3.3 })
	chip.FloatHigh = true
	d, err := New(chip, nil)
	if err != nil {
		t.Fatal(err)
	}
	// With the chip answering, a pulled-up MISO is harmless.
	if got, err := d.Read(0); err != nil || got != 1023 {
		t.Fatalf("Read = %d, %v; want 1023", got, err)
	}
}

func BenchmarkReadEmulator(b *testing.B) {
	chip := mcp3008test.New(3.3, func(ch int) float64 { return float64(ch) * 0.4 })
	d, err := New(chip, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Read(i & 7); err != nil {
			b.Fatal(err)
		}
	}
}
