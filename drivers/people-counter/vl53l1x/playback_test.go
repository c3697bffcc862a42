package vl53l1x

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

func fakeOpts(o Opts) *Opts {
	clk := vl53l1xtest.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	o.Now, o.Sleep = clk.Now, clk.Sleep
	return &o
}

// initOps is the traffic of New with the default options (long mode, 100 ms
// timing budget, 100 ms inter-measurement period).
func initOps() []i2ctest.IO {
	return []i2ctest.IO{
		// IDENTIFICATION__MODEL_ID (0x010F, 2 bytes): 0xEACC.
		{Addr: 0x29, W: []byte{0x01, 0x0F}, R: []byte{0xEA, 0xCC}},
		// FIRMWARE__SYSTEM_STATUS (0x00E5): 0, still booting.
		{Addr: 0x29, W: []byte{0x00, 0xE5}, R: []byte{0x00}},
		// FIRMWARE__SYSTEM_STATUS: 1, booted.
		{Addr: 0x29, W: []byte{0x00, 0xE5}, R: []byte{0x01}},
		// ST's default configuration, registers 0x2D..0x87, in one write.
		{Addr: 0x29, W: append([]byte{0x00, 0x2D}, defaultConfig[:]...)},
		// GPIO_HV_MUX__CTRL (0x0030): 0x01, bit 4 clear: interrupt active high.
		{Addr: 0x29, W: []byte{0x00, 0x30}, R: []byte{0x01}},
		// SYSTEM__INTERRUPT_CLEAR = 1, SYSTEM__MODE_START = 0x40: first (VHV) measurement.
		{Addr: 0x29, W: []byte{0x00, 0x86, 0x01, 0x40}},
		// GPIO__TIO_HV_STATUS (0x0031) bit 0 = 0: not ready yet.
		{Addr: 0x29, W: []byte{0x00, 0x31}, R: []byte{0x02}},
		// GPIO__TIO_HV_STATUS bit 0 = 1: data ready.
		{Addr: 0x29, W: []byte{0x00, 0x31}, R: []byte{0x03}},
		// SYSTEM__INTERRUPT_CLEAR = 1, SYSTEM__MODE_START = 0: clear and stop.
		{Addr: 0x29, W: []byte{0x00, 0x86, 0x01, 0x00}},
		// VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND = 0x09: two bounds VHV.
		{Addr: 0x29, W: []byte{0x00, 0x08, 0x09}},
		// VHV_CONFIG__INIT (0x000B) = 0: start VHV from the previous temperature.
		{Addr: 0x29, W: []byte{0x00, 0x0B, 0x00}},
		// Long mode is already loaded; timing budget 100 ms: TIMEOUT_MACROP_A
		// 0x01CC, VCSEL_PERIOD_A 0x0F, TIMEOUT_MACROP_B 0x01EA, VCSEL_PERIOD_B 0x0D.
		{Addr: 0x29, W: []byte{0x00, 0x5E, 0x01, 0xCC, 0x0F, 0x01, 0xEA, 0x0D}},
		// RESULT__OSC_CALIBRATE_VAL (0x00DE): 0x01C0.
		{Addr: 0x29, W: []byte{0x00, 0xDE}, R: []byte{0x01, 0xC0}},
		// SYSTEM__INTERMEASUREMENT_PERIOD (0x006C) = 448 × 100 ms × 1.075 = 48160.
		{Addr: 0x29, W: []byte{0x00, 0x6C, 0x00, 0x00, 0xBC, 0x20}},
	}
}

// result17 is a RESULT__RANGE_STATUS..0x0099 block: raw status, stream
// count, distance.
func result17(raw, stream byte, mm uint16) []byte {
	return []byte{raw, 0x00, stream, 0x80, 0x00, 0x10, 0x00, 0x00, 0x40, 0x00, 0x20, 0x01, 0x00, byte(mm >> 8), byte(mm), 0x0E, 0x00}
}

func TestNewPlayback(t *testing.T) {
	bus := &i2ctest.Playback{Ops: initOps(), DontPanic: true}
	d, err := New(bus, fakeOpts(Opts{}))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.String(); got != "VL53L1X{playback, 0x29}" {
		t.Errorf("String() = %q", got)
	}
	if r := d.ROI(); r != (ROI{16, 16, 199}) {
		t.Errorf("ROI after init = %v, want 16x16@199", r)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestShortModePlayback(t *testing.T) {
	ops := initOps()
	ops = append(ops[:11],
		// PHASECAL_CONFIG__TIMEOUT_MACROP = 0x14: short mode.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x4B, 0x14}},
		// Timing budget 20 ms short: A 0x0051, VCSEL_PERIOD_A 0x07, B 0x006E, VCSEL_PERIOD_B 0x05.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x5E, 0x00, 0x51, 0x07, 0x00, 0x6E, 0x05}},
		// RANGE_CONFIG__VALID_PHASE_HIGH = 0x38.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x69, 0x38}},
		// SD_CONFIG__WOI_SD0 = 0x0705, SD_CONFIG__INITIAL_PHASE_SD0 = 0x0606.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x78, 0x07, 0x05, 0x06, 0x06}},
		// RESULT__OSC_CALIBRATE_VAL: 0x01C0.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0xDE}, R: []byte{0x01, 0xC0}},
		// SYSTEM__INTERMEASUREMENT_PERIOD = 448 × 25 ms × 1.075 = 12040.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x6C, 0x00, 0x00, 0x2F, 0x08}},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	if _, err := New(bus, fakeOpts(Opts{DistanceMode: Short, TimingBudget: 20 * time.Millisecond, InterMeasurement: 25 * time.Millisecond})); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTwoZonePlayback spells out one people-counting cycle: two ROI zones
// read in turn.
func TestTwoZonePlayback(t *testing.T) {
	ops := append(initOps(),
		// SetROI(8, 16, 167) while stopped: ROI_CONFIG__USER_ROI_CENTRE_SPAD = 167,
		// ROI_CONFIG__USER_ROI_REQUESTED_GLOBAL_XY_SIZE = (16-1)<<4 | (8-1).
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x7F, 167, 0xF7}},
		// StartRanging: SYSTEM__INTERRUPT_CLEAR = 1, SYSTEM__MODE_START = 0x40.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x86, 0x01, 0x40}},
		// Read: GPIO__TIO_HV_STATUS bit 0 = 1, data ready.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x31}, R: []byte{0x03}},
		// Read: RESULT__RANGE_STATUS..: raw 9 (valid), stream 1, 1167 mm.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x89}, R: result17(9, 1, 1167)},
		// SetROI(8, 16, 231) while ranging: SYSTEM__MODE_START = 0, stop.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x87, 0x00}},
		// ROI centre 231, 8×16.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x7F, 231, 0xF7}},
		// Restart: clear the interrupt of the last reading and start.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x86, 0x01, 0x40}},
		// Read: data ready.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x31}, R: []byte{0x03}},
		// Read: raw 5 (ULD status 4, out of bounds), stream 1, 8191 mm.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x89}, R: result17(5, 1, 8191)},
		// Read with the same ROI: the deferred SYSTEM__INTERRUPT_CLEAR.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x86, 0x01}},
		// Read: not ready yet.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x31}, R: []byte{0x02}},
		// Read: data ready.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x31}, R: []byte{0x03}},
		// Read: raw 4 (ULD status 2, signal fail), stream 2, 300 mm.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x89}, R: result17(4, 2, 300)},
		// StopRanging: clear the interrupt and SYSTEM__MODE_START = 0.
		i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0x86, 0x01, 0x00}},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, fakeOpts(Opts{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetROI(8, 16, 167); err != nil {
		t.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		t.Fatal(err)
	}
	want := []Reading{
		{DistanceMM: 1167, Status: 0, RawStatus: 9, ROI: ROI{8, 16, 167}, SPADs: 128, SignalKcps: 0x0E00 * 8, AmbientKcps: 0x40 * 8, StreamCount: 1},
		{DistanceMM: 8191, Status: 4, RawStatus: 5, ROI: ROI{8, 16, 231}, SPADs: 128, SignalKcps: 0x0E00 * 8, AmbientKcps: 0x40 * 8, StreamCount: 1},
		{DistanceMM: 300, Status: 2, RawStatus: 4, ROI: ROI{8, 16, 231}, SPADs: 128, SignalKcps: 0x0E00 * 8, AmbientKcps: 0x40 * 8, StreamCount: 2},
	}
	for i, w := range want {
		if i == 1 {
			if err := d.SetROI(8, 16, 231); err != nil {
				t.Fatal(err)
			}
		}
		if i == 2 {
			// Same ROI again: no bus traffic.
			if err := d.SetROI(8, 16, 231); err != nil {
				t.Fatal(err)
			}
		}
		got, err := d.Read()
		if err != nil {
			t.Fatalf("Read %d: %v", i, err)
		}
		if got != w {
			t.Errorf("Read %d = %+v\nwant %+v", i, got, w)
		}
	}
	if err := d.StopRanging(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWrongModelPlayback(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		// IDENTIFICATION__MODEL_ID reads 0xEEAA: some other chip.
		{Addr: 0x29, W: []byte{0x01, 0x0F}, R: []byte{0xEE, 0xAA}},
	}, DontPanic: true}
	_, err := New(bus, fakeOpts(Opts{}))
	if !errors.Is(err, ErrWrongModel) || !strings.Contains(err.Error(), "0xeeaa") {
		t.Fatalf("New = %v, want ErrWrongModel naming 0xeeaa", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBootTimeoutPlayback(t *testing.T) {
	ops := []i2ctest.IO{{Addr: 0x29, W: []byte{0x01, 0x0F}, R: []byte{0xEA, 0xCC}}}
	// FIRMWARE__SYSTEM_STATUS never reads 1: one poll per ms for 500 ms.
	for i := 0; i <= 500; i++ {
		ops = append(ops, i2ctest.IO{Addr: 0x29, W: []byte{0x00, 0xE5}, R: []byte{0x00}})
	}
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	_, err := New(bus, fakeOpts(Opts{}))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "FIRMWARE__SYSTEM_STATUS") {
		t.Fatalf("New = %v, want a boot timeout", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
