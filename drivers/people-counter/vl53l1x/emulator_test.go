package vl53l1x_test

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// zoneScene sees a different distance under each ROI centre, so a reading
// tells which ROI it was measured with.
func zoneScene(roi vl53l1xtest.ROI, _ time.Time) (int, int) {
	return 1000 + int(roi.Center), 0
}

type rig struct {
	clk *vl53l1xtest.FakeClock
	emu *vl53l1xtest.Emulator
	bus *countingBus
}

func newRig(eo vl53l1xtest.Options) *rig {
	clk := vl53l1xtest.NewFakeClock(t0)
	eo.Clock = clk
	if eo.Scene == nil {
		eo.Scene = zoneScene
	}
	emu := vl53l1xtest.New(&eo)
	return &rig{clk: clk, emu: emu, bus: &countingBus{Bus: emu}}
}

func (r *rig) opts(o vl53l1x.Opts) *vl53l1x.Opts {
	o.Now, o.Sleep = r.clk.Now, r.clk.Sleep
	return &o
}

// countingBus counts transactions and the bytes written and read (register
// index included, I²C address bytes not).
type countingBus struct {
	i2c.Bus
	mu       sync.Mutex
	tx, byts int
	regs     map[uint16]int // transactions per register index
}

func (c *countingBus) Tx(addr uint16, w, r []byte) error {
	c.mu.Lock()
	c.tx++
	c.byts += len(w) + len(r)
	if len(w) >= 2 {
		if c.regs == nil {
			c.regs = map[uint16]int{}
		}
		c.regs[uint16(w[0])<<8|uint16(w[1])]++
	}
	c.mu.Unlock()
	return c.Bus.Tx(addr, w, r)
}

func (c *countingBus) reset() {
	c.mu.Lock()
	c.tx, c.byts, c.regs = 0, 0, nil
	c.mu.Unlock()
}

func TestEmulatorWrongModel(t *testing.T) {
	r := newRig(vl53l1xtest.Options{ModelID: 0xEEAC})
	_, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{}))
	if !errors.Is(err, vl53l1x.ErrWrongModel) {
		t.Fatalf("New = %v, want ErrWrongModel", err)
	}
	if !strings.Contains(err.Error(), "IDENTIFICATION__MODEL_ID") || !strings.Contains(err.Error(), "0xeeac") {
		t.Errorf("error %q should name the register and the value read", err)
	}
}

func TestEmulatorNoDevice(t *testing.T) {
	r := newRig(vl53l1xtest.Options{})
	_, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{Addr: 0x30}))
	if !errors.Is(err, vl53l1xtest.ErrNAK) {
		t.Fatalf("New at 0x30 = %v, want the NAK", err)
	}
}

// TestROISwitching alternates two zones as Roode's people counting does and
// checks that no reading measured with the old ROI is returned for the new
// one, with the chip holding or free-running on a pending interrupt, with
// and without the GPIO1 pin, and with random host delays between the calls.
func TestROISwitching(t *testing.T) {
	for _, free := range []bool{false, true} {
		for _, pin := range []bool{false, true} {
			for _, im := range []time.Duration{0, 33 * time.Millisecond} {
				t.Run(fmt.Sprintf("freerunning=%v/pin=%v/im=%v", free, pin, im), func(t *testing.T) {
					r := newRig(vl53l1xtest.Options{FreeRunning: free, LatchDelay: 3 * time.Millisecond})
					o := vl53l1x.Opts{DistanceMode: vl53l1x.Short, TimingBudget: 20 * time.Millisecond, InterMeasurement: im}
					if pin {
						o.Interrupt = r.emu.GPIO1()
					}
					d, err := vl53l1x.New(r.bus, r.opts(o))
					if err != nil {
						t.Fatal(err)
					}
					if err := d.SetROI(8, 16, 167); err != nil {
						t.Fatal(err)
					}
					if err := d.StartRanging(); err != nil {
						t.Fatal(err)
					}
					rng := rand.New(rand.NewSource(1))
					centers := [2]uint8{167, 231}
					prev := time.Time{}
					for i := 0; i < 200; i++ {
						c := centers[i%2]
						if err := d.SetROI(8, 16, c); err != nil {
							t.Fatal(err)
						}
						rd, err := d.Read()
						if err != nil {
							t.Fatalf("cycle %d: %v", i, err)
						}
						if want := 1000 + int(c); rd.DistanceMM != want || rd.ROI.Center != c || rd.Status != 0 {
							t.Fatalf("cycle %d: ROI centre %d, got %+v, want %d mm", i, c, rd, want)
						}
						now := r.clk.Now()
						// One timing budget per reading, no measurement lost
						// to a switch (plus the host's delay and poll slack).
						if !prev.IsZero() && now.Sub(prev) > 20*time.Millisecond+im+32*time.Millisecond {
							t.Fatalf("cycle %d took %v", i, now.Sub(prev))
						}
						// The host does something else for 0..30 ms.
						r.clk.Advance(time.Duration(rng.Intn(30000)) * time.Microsecond)
						prev = r.clk.Now()
					}
				})
			}
		}
	}
}

// TestSameROIKeepsRanging checks the period of readings without ROI changes:
// one per inter-measurement period, results fresh (stream count advances).
func TestSameROIKeepsRanging(t *testing.T) {
	for _, free := range []bool{false, true} {
		r := newRig(vl53l1xtest.Options{FreeRunning: free})
		d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{TimingBudget: 50 * time.Millisecond, InterMeasurement: 200 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.StartRanging(); err != nil {
			t.Fatal(err)
		}
		start := r.clk.Now()
		var last uint8
		for i := 0; i < 10; i++ {
			rd, err := d.Read()
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && rd.StreamCount != last+1 {
				t.Errorf("free=%v reading %d: stream count %d after %d", free, i, rd.StreamCount, last)
			}
			last = rd.StreamCount
			if rd.DistanceMM != 1199 {
				t.Errorf("reading %d: %d mm, want 1199 (16x16 at 199)", i, rd.DistanceMM)
			}
		}
		// 10 readings: 9 periods of 200 ms after the first 50 ms measurement.
		if el := r.clk.Now().Sub(start); el < 1850*time.Millisecond || el > 1870*time.Millisecond {
			t.Errorf("free=%v: 10 readings took %v, want about 1.85s (period 200 ms)", free, el)
		}
		if n := r.emu.Measurements(); free == false && n != 11 { // 10 + the init measurement
			t.Errorf("emulator made %d measurements, want 11", n)
		}
	}
}

func TestStatusMapping(t *testing.T) {
	for _, st := range []int{0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 255} {
		r := newRig(vl53l1xtest.Options{Scene: func(vl53l1xtest.ROI, time.Time) (int, int) { return 812, st }})
		d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.StartRanging(); err != nil {
			t.Fatal(err)
		}
		rd, err := d.Read()
		if err != nil {
			t.Fatal(err)
		}
		if rd.Status != st || rd.DistanceMM != 812 || rd.Valid() != (st == 0) {
			t.Errorf("scene status %d: reading %+v", st, rd)
		}
	}
}

func TestROIClipped(t *testing.T) {
	r := newRig(vl53l1xtest.Options{})
	d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{}))
	if err != nil {
		t.Fatal(err)
	}
	// 16 wide around column 4 (SPAD 167) sticks out of the array.
	if err := d.SetROI(16, 16, 167); err != nil {
		t.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		t.Fatal(err)
	}
	rd, err := d.Read()
	if err != nil {
		t.Fatal(err)
	}
	if rd.Status != vl53l1x.StatusROIClipped {
		t.Errorf("status %d, want %d (ROI clipped)", rd.Status, vl53l1x.StatusROIClipped)
	}
}

func TestInvalidArgs(t *testing.T) {
	r := newRig(vl53l1xtest.Options{})
	d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w, h int
		want string
	}{{3, 16, "width 3"}, {17, 16, "width 17"}, {8, 3, "height 3"}, {8, 17, "height 17"}, {0, 0, "width 0"}} {
		err := d.SetROI(c.w, c.h, 199)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "4..16") {
			t.Errorf("SetROI(%d, %d) = %v, want an error naming %q and 4..16", c.w, c.h, err, c.want)
		}
	}
	if err := d.SetTimingBudget(15 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "long mode") {
		t.Errorf("15 ms budget in long mode: %v", err)
	}
	if err := d.SetTimingBudget(42 * time.Millisecond); err == nil {
		t.Error("42 ms budget accepted")
	}
	if err := d.SetInterMeasurement(50 * time.Millisecond); err == nil {
		t.Error("inter-measurement shorter than the 100 ms budget accepted")
	}
	if _, err := d.Read(); !errors.Is(err, vl53l1x.ErrNotRanging) {
		t.Errorf("Read before StartRanging = %v", err)
	}
	for _, o := range []vl53l1x.Opts{
		{Addr: 0x80},
		{NewAddr: 0x78},
		{NewAddr: 0x03},
		{DistanceMode: 9},
		{TimingBudget: 15 * time.Millisecond},
		{TimingBudget: 50 * time.Millisecond, InterMeasurement: 20 * time.Millisecond},
	} {
		if _, err := vl53l1x.New(r.bus, r.opts(o)); err == nil || !strings.HasPrefix(err.Error(), "vl53l1x: ") {
			t.Errorf("New(%+v) = %v, want a vl53l1x error", o, err)
		}
	}
}

func TestSettingsWhileRanging(t *testing.T) {
	r := newRig(vl53l1xtest.Options{})
	d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetDistanceMode(vl53l1x.Short); err != nil {
		t.Fatal(err)
	}
	if err := d.SetTimingBudget(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := d.SetInterMeasurement(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	before := r.clk.Now()
	for i := 0; i < 5; i++ {
		if _, err := d.Read(); err != nil {
			t.Fatal(err)
		}
	}
	// The emulator decoded 20 ms from the short-mode timeout registers.
	if el := r.clk.Now().Sub(before); el < 100*time.Millisecond || el > 106*time.Millisecond {
		t.Errorf("5 readings at 20 ms took %v", el)
	}
	if f := r.emu.Fault(); f != "" {
		t.Errorf("emulator fault: %s", f)
	}
}

// TestAddressChange wakes two sensors on one bus one at a time and moves
// each to its own address.
func TestAddressChange(t *testing.T) {
	clk := vl53l1xtest.NewFakeClock(t0)
	left := vl53l1xtest.New(&vl53l1xtest.Options{Name: "left", Clock: clk, Scene: func(vl53l1xtest.ROI, time.Time) (int, int) { return 1111, 0 }})
	right := vl53l1xtest.New(&vl53l1xtest.Options{Name: "right", Clock: clk, Scene: func(vl53l1xtest.ROI, time.Time) (int, int) { return 2222, 0 }})
	bus := vl53l1xtest.NewBus(left, right)
	if err := vl53l1x.ResetAll(left.XShut(), right.XShut()); err != nil {
		t.Fatal(err)
	}
	dl, err := vl53l1x.New(bus, &vl53l1x.Opts{XShut: left.XShut(), NewAddr: 0x30, Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	dr, err := vl53l1x.New(bus, &vl53l1x.Opts{XShut: right.XShut(), NewAddr: 0x31, Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if left.Addr() != 0x30 || right.Addr() != 0x31 || dl.Addr() != 0x30 {
		t.Fatalf("addresses left %#x right %#x", left.Addr(), right.Addr())
	}
	if err := bus.Tx(0x29, []byte{0x01, 0x0F}, make([]byte, 2)); !errors.Is(err, vl53l1xtest.ErrNAK) {
		t.Errorf("Tx at 0x29 after the moves = %v, want a NAK", err)
	}
	for _, c := range []struct {
		d    *vl53l1x.Dev
		want int
	}{{dl, 1111}, {dr, 2222}} {
		if err := c.d.StartRanging(); err != nil {
			t.Fatal(err)
		}
		rd, err := c.d.Read()
		if err != nil || rd.DistanceMM != c.want {
			t.Errorf("%s: %+v %v, want %d mm", c.d, rd, err, c.want)
		}
	}
	// Halt drives XSHUT low: the sensor is off and answers nothing.
	if err := dl.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, err := dl.Read(); err == nil {
		t.Error("Read after Halt succeeded")
	}
	if err := bus.Tx(0x30, []byte{0x01, 0x0F}, make([]byte, 2)); !errors.Is(err, vl53l1xtest.ErrNAK) {
		t.Errorf("halted sensor answered: %v", err)
	}
}

// TestAddressChangeWithoutXShut shows why the sequencing matters: two awake
// sensors at 0x29 both take the new address.
func TestAddressChangeWithoutXShut(t *testing.T) {
	clk := vl53l1xtest.NewFakeClock(t0)
	a := vl53l1xtest.New(&vl53l1xtest.Options{Clock: clk})
	b := vl53l1xtest.New(&vl53l1xtest.Options{Clock: clk})
	bus := vl53l1xtest.NewBus(a, b)
	if _, err := vl53l1x.New(bus, &vl53l1x.Opts{NewAddr: 0x30, Now: clk.Now, Sleep: clk.Sleep}); err != nil {
		t.Fatal(err)
	}
	if a.Addr() != 0x30 || b.Addr() != 0x30 {
		t.Errorf("addresses %#x %#x, want both moved to 0x30", a.Addr(), b.Addr())
	}
	if _, err := vl53l1x.New(bus, &vl53l1x.Opts{NewAddr: 0x31, Now: clk.Now, Sleep: clk.Sleep}); !errors.Is(err, vl53l1xtest.ErrNAK) {
		t.Errorf("second sensor at 0x29: %v, want a NAK", err)
	}
}

func TestReadTimeout(t *testing.T) {
	r := newRig(vl53l1xtest.Options{})
	d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{TimingBudget: 20 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		t.Fatal(err)
	}
	// Someone else stops the sensor behind the driver's back.
	if err := r.emu.Tx(0x29, []byte{0x00, 0x87, 0x00}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(); !errors.Is(err, vl53l1x.ErrTimeout) || !strings.Contains(err.Error(), "GPIO__TIO_HV_STATUS") {
		t.Errorf("Read = %v, want a timeout naming GPIO__TIO_HV_STATUS", err)
	}
	// Same with the GPIO1 pin.
	r = newRig(vl53l1xtest.Options{})
	d, err = vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{TimingBudget: 20 * time.Millisecond, Interrupt: r.emu.GPIO1()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.Tx(0x29, []byte{0x00, 0x87, 0x00}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(); !errors.Is(err, vl53l1x.ErrTimeout) || !strings.Contains(err.Error(), "GPIO1") {
		t.Errorf("Read = %v, want a timeout naming GPIO1", err)
	}
}

// flakyBus fails transaction number failAt (1-based).
type flakyBus struct {
	i2c.Bus
	n, failAt int
}

var errInjected = errors.New("injected bus error")

func (f *flakyBus) Tx(addr uint16, w, r []byte) error {
	f.n++
	if f.n == f.failAt {
		return errInjected
	}
	return f.Bus.Tx(addr, w, r)
}

func (f *flakyBus) SetSpeed(physic.Frequency) error { return nil }

// TestBusErrors fails each transaction of a full session in turn: every
// failure comes back as an error naming the register, never a panic.
func TestBusErrors(t *testing.T) {
	session := func(bus i2c.Bus, clk *vl53l1xtest.FakeClock, emu *vl53l1xtest.Emulator) error {
		d, err := vl53l1x.New(bus, &vl53l1x.Opts{DistanceMode: vl53l1x.Short, TimingBudget: 20 * time.Millisecond, Now: clk.Now, Sleep: clk.Sleep})
		if err != nil {
			return err
		}
		steps := []func() error{
			func() error { return d.SetROI(8, 16, 167) },
			d.StartRanging,
			func() error { _, err := d.Read(); return err },
			func() error { return d.SetROI(8, 16, 231) },
			func() error { _, err := d.Read(); return err },
			func() error { _, err := d.Read(); return err },
			func() error { return d.SetTimingBudget(50 * time.Millisecond) },
			func() error { return d.SetDistanceMode(vl53l1x.Long) },
			d.StopRanging,
			d.Halt,
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	}
	// Count the transactions of a clean session.
	clk := vl53l1xtest.NewFakeClock(t0)
	emu := vl53l1xtest.New(&vl53l1xtest.Options{Clock: clk})
	fb := &flakyBus{Bus: emu}
	if err := session(fb, clk, emu); err != nil {
		t.Fatal(err)
	}
	total := fb.n
	for i := 1; i <= total; i++ {
		clk := vl53l1xtest.NewFakeClock(t0)
		emu := vl53l1xtest.New(&vl53l1xtest.Options{Clock: clk})
		err := session(&flakyBus{Bus: emu, failAt: i}, clk, emu)
		if !errors.Is(err, errInjected) {
			t.Errorf("failure at Tx %d/%d: got %v", i, total, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "vl53l1x: ") {
			t.Errorf("failure at Tx %d: error %q does not say where", i, err)
		}
	}
}

// TestConcurrentUse reads on the real clock while other goroutines query the
// emulator and the driver (run with -race).
func TestConcurrentUse(t *testing.T) {
	emu := vl53l1xtest.New(&vl53l1xtest.Options{Scene: zoneScene})
	d, err := vl53l1x.New(emu, &vl53l1x.Opts{DistanceMode: vl53l1x.Short, TimingBudget: 15 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				_ = emu.Measurements()
				_ = d.ROI()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for i := 0; i < 6; i++ {
		c := uint8(167 + 64*(i%2))
		if err := d.SetROI(8, 16, c); err != nil {
			t.Fatal(err)
		}
		rd, err := d.Read()
		if err != nil {
			t.Fatal(err)
		}
		if rd.DistanceMM != 1000+int(c) {
			t.Errorf("reading %d: %d mm under ROI %d", i, rd.DistanceMM, c)
		}
	}
	close(done)
	wg.Wait()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}
