// Package vl53l1xtest emulates a VL53L1X time-of-flight sensor on an I²C
// bus, register by register, for tests, demos and the simulated store.
//
// The Emulator implements periph's i2c.Bus: 16-bit register indexes,
// big-endian multi-byte values, auto-increment. It boots in tBOOT
// (FIRMWARE__SYSTEM_STATUS), ranges once SYSTEM__MODE_START is written,
// takes the ROI from its registers when a measurement starts, completes the
// measurement after the timing budget decoded from
// RANGE_CONFIG__TIMEOUT_MACROP_A, raises the data-ready interrupt in
// GPIO__TIO_HV_STATUS (and on GPIO1) with the polarity of GPIO_HV_MUX__CTRL,
// starts the next measurement one inter-measurement period after the last
// one, moves to a new I²C address when I2C_SLAVE__DEVICE_ADDRESS is written
// and answers no other address. Distances come from a Scene.
//
// Time comes from a Clock: RealClock for demos, a FakeClock for
// deterministic tests, where sleeping advances simulated time. All methods
// are safe for concurrent use.
package vl53l1xtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// Clock is the time source of an Emulator.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// RealClock returns the wall clock.
func RealClock() Clock { return realClock{} }

// FakeClock is a manual clock: Sleep advances it instead of waiting.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{t: start} }

// Now returns the simulated time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep advances the simulated time by d.
func (c *FakeClock) Sleep(d time.Duration) { c.Advance(d) }

// Advance moves the simulated time forward by d (negative d is ignored).
func (c *FakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ROI is the region of interest a measurement was made with.
type ROI struct {
	Width, Height int   // SPADs, from ROI_CONFIG__USER_ROI_REQUESTED_GLOBAL_XY_SIZE
	Center        uint8 // ROI_CONFIG__USER_ROI_CENTRE_SPAD
}

// CenterXY returns the column (0 = left) and row (0 = top) of the centre
// SPAD in ST's ROI table: SPADs 128..255 fill the top 8 rows column by
// column from the left, 127..0 the bottom 8 rows.
func (r ROI) CenterXY() (x, y int) {
	c := int(r.Center)
	if c >= 128 {
		return (c - 128) / 8, (c - 128) % 8
	}
	return (127 - c) / 8, 8 + (127-c)%8
}

// Bounds returns the SPAD columns x0..x1 and rows y0..y1 the ROI covers and
// whether it fits the 16×16 array (otherwise the device reports range status
// 13, "ROI clipped").
func (r ROI) Bounds() (x0, y0, x1, y1 int, ok bool) {
	x, y := r.CenterXY()
	x0 = x - r.Width/2
	y0 = y - (r.Height-1)/2
	x1, y1 = x0+r.Width-1, y0+r.Height-1
	ok = r.Width >= 4 && r.Height >= 4 && x0 >= 0 && y0 >= 0 && x1 <= 15 && y1 <= 15
	return
}

// Scene says what the sensor sees: the distance in mm and the range status
// (the ULD's codes: 0 valid, 1 sigma fail, 2 signal fail, 4 out of bounds,
// 7 wrap around, ...) of a measurement made with roi that ends at at.
type Scene func(roi ROI, at time.Time) (distanceMM int, rangeStatus int)

// Options configures an Emulator. Zero fields take the defaults.
type Options struct {
	Name  string // for String; default "vl53l1x"
	Clock Clock  // default RealClock()
	// Scene gives the distances; default: a floor at 2000 mm, valid.
	Scene Scene
	// ModelID is what IDENTIFICATION__MODEL_ID reads; default 0xEACC.
	ModelID uint16
	// BootTime is the time from power-up (or XSHUT high) until
	// FIRMWARE__SYSTEM_STATUS reads 1; default 1.2 ms (tBOOT).
	BootTime time.Duration
	// OscCalibrate is RESULT__OSC_CALIBRATE_VAL; default 0x01C0.
	OscCalibrate uint16
	// LatchDelay is how long after a measurement starts the firmware takes
	// the ROI from the registers; a ROI written in that window is used by
	// that measurement. Default 1 ms; negative means 0.
	LatchDelay time.Duration
	// FreeRunning makes the chip keep ranging while an interrupt is pending,
	// overwriting the results (UM2510 §3.1 wording). By default the next
	// measurement waits for SYSTEM__INTERRUPT_CLEAR ("handshake": ranging is
	// on hold until the interrupt is cleared). A correct driver works with
	// both.
	FreeRunning bool
}

// ErrNAK is returned (wrapped) by Tx when no device acknowledges the address.
var ErrNAK = errors.New("vl53l1xtest: address not acknowledged")

const (
	regSpace      = 0x200
	defaultAddr   = 0x29
	maxWaitChunk  = 10 * time.Millisecond
	regAddr       = 0x0001
	regSoftReset  = 0x0000
	regHVMux      = 0x0030
	regTIOStatus  = 0x0031
	regIntConfig  = 0x0046
	regPhasecal   = 0x004B
	regTimeoutA   = 0x005E
	regIMPeriod   = 0x006C
	regROICentre  = 0x007F
	regROISize    = 0x0080
	regIntClear   = 0x0086
	regModeStart  = 0x0087
	regResults    = 0x0088
	regResultsEnd = 0x0099
	regOscCal     = 0x00DE
	regFWStatus   = 0x00E5
	regModelID    = 0x010F
	regModeROI    = 0x013E
)

// budgets decodes RANGE_CONFIG__TIMEOUT_MACROP_A per distance mode
// (PHASECAL_CONFIG__TIMEOUT_MACROP 0x14 short, 0x0A long) to a timing budget.
var budgets = map[byte]map[uint16]time.Duration{
	0x14: {0x001D: 15, 0x0051: 20, 0x00D6: 33, 0x01AE: 50, 0x02E1: 100, 0x03E1: 200, 0x0591: 500},
	0x0A: {0x001E: 20, 0x0060: 33, 0x00AD: 50, 0x01CC: 100, 0x02D9: 200, 0x048F: 500},
}

// rawStatus is the RESULT__RANGE_STATUS the device reports for a ULD status.
var rawStatus = map[int]byte{0: 9, 1: 6, 2: 4, 3: 8, 4: 5, 5: 3, 6: 19, 7: 7, 9: 12, 10: 18, 11: 22, 12: 23, 13: 13}

type measurement struct {
	start, latchAt, end time.Time
	roi                 ROI
	latched             bool
}

// Emulator is one emulated VL53L1X. It implements i2c.Bus for a bus with
// only this sensor on it; put several on a Bus to share one.
type Emulator struct {
	mu  sync.Mutex
	o   Options
	clk Clock

	regs    [regSpace]byte
	addr    uint16
	newAddr int // -1: none pending
	powered bool
	bootAt  time.Time
	inReset bool // SOFT_RESET held at 0
	closed  bool
	ptr     uint16
	mode    byte // SYSTEM__MODE_START while ranging, 0 stopped
	meas    *measurement
	waitCl  bool      // finished, next measurement waits for the clear
	nextAt  time.Time // earliest start of the next measurement
	pending bool      // interrupt asserted
	edge    bool      // assertion not yet seen by GPIO1 WaitForEdge
	stream  byte
	done    int
	lastROI ROI
	fault   string
	txs     int
}

// New returns a powered emulator at address 0x29, booting from now.
func New(opts *Options) *Emulator {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "vl53l1x"
	}
	if o.Clock == nil {
		o.Clock = RealClock()
	}
	if o.Scene == nil {
		o.Scene = func(ROI, time.Time) (int, int) { return 2000, 0 }
	}
	if o.ModelID == 0 {
		o.ModelID = 0xEACC
	}
	if o.BootTime == 0 {
		o.BootTime = 1200 * time.Microsecond
	}
	if o.OscCalibrate == 0 {
		o.OscCalibrate = 0x01C0
	}
	if o.LatchDelay == 0 {
		o.LatchDelay = time.Millisecond
	} else if o.LatchDelay < 0 {
		o.LatchDelay = 0
	}
	e := &Emulator{o: o, clk: o.Clock}
	e.powerOn(e.clk.Now())
	return e
}

func (e *Emulator) powerOn(now time.Time) {
	e.powered = true
	e.addr = defaultAddr
	e.reset(now)
}

// reset loads the reset values and restarts the boot.
func (e *Emulator) reset(now time.Time) {
	e.regs = [regSpace]byte{}
	e.regs[regAddr] = byte(e.addr)
	binary.BigEndian.PutUint16(e.regs[regModelID:], e.o.ModelID)
	e.regs[regModelID+2] = 0x10 // IDENTIFICATION__REVISION_ID
	binary.BigEndian.PutUint16(e.regs[regOscCal:], e.o.OscCalibrate)
	e.regs[regModeROI] = 199
	e.newAddr = -1
	e.inReset = false
	e.bootAt = now.Add(e.o.BootTime)
	e.mode, e.meas, e.waitCl, e.pending, e.edge, e.stream = 0, nil, false, false, false, 0
}

func (e *Emulator) String() string { return "vl53l1xtest.Emulator(" + e.o.Name + ")" }

// SetSpeed accepts up to 1 MHz (I²C fast mode plus).
func (e *Emulator) SetSpeed(f physic.Frequency) error {
	if f > physic.MegaHertz {
		return fmt.Errorf("vl53l1xtest: %s: speed %s above 1MHz", e.o.Name, f)
	}
	return nil
}

// Close makes every later Tx fail.
func (e *Emulator) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	return nil
}

// Addr returns the address the chip answers at now.
func (e *Emulator) Addr() uint16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// Measurements returns how many measurements have completed.
func (e *Emulator) Measurements() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.clk.Now())
	return e.done
}

// Ranging reports whether SYSTEM__MODE_START holds a ranging mode.
func (e *Emulator) Ranging() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mode != 0
}

// Fault describes the last misconfiguration that kept the chip from ranging
// (unknown distance mode or timing budget, interrupt not on new sample), or
// is empty.
func (e *Emulator) Fault() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fault
}

// Transactions returns how many Tx the chip has seen.
func (e *Emulator) Transactions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.txs
}

func (e *Emulator) answers(addr uint16) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.powered && !e.closed && e.addr == addr
}

// Tx implements i2c.Bus: w starts with a 16-bit big-endian register index,
// the rest of w is written from there, then r is read from where the writes
// ended. The register pointer auto-increments; an empty w reads from the
// current pointer.
func (e *Emulator) Tx(addr uint16, w, r []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("vl53l1xtest: %s: bus closed", e.o.Name)
	}
	now := e.clk.Now()
	e.advance(now)
	if !e.powered {
		return fmt.Errorf("%w: %#x (%s is held in reset by XSHUT)", ErrNAK, addr, e.o.Name)
	}
	if addr != e.addr {
		return fmt.Errorf("%w: %#x (%s answers %#x)", ErrNAK, addr, e.o.Name, e.addr)
	}
	e.txs++
	if len(w) == 1 {
		return fmt.Errorf("vl53l1xtest: %s: register index needs 2 bytes, got 1", e.o.Name)
	}
	if len(w) >= 2 {
		e.ptr = binary.BigEndian.Uint16(w)
		for _, b := range w[2:] {
			if e.ptr >= regSpace {
				return fmt.Errorf("vl53l1xtest: %s: write beyond the register map at %#04x", e.o.Name, e.ptr)
			}
			e.writeReg(e.ptr, b, now)
			e.ptr++
		}
	}
	for i := range r {
		if e.ptr >= regSpace {
			return fmt.Errorf("vl53l1xtest: %s: read beyond the register map at %#04x", e.o.Name, e.ptr)
		}
		r[i] = e.readReg(e.ptr)
		e.ptr++
	}
	if e.newAddr >= 0 { // the new address answers from the next transaction
		e.addr = uint16(e.newAddr)
		e.newAddr = -1
	}
	return nil
}

func readOnly(reg uint16) bool {
	return (reg >= regResults && reg <= regResultsEnd) || reg == regOscCal || reg == regOscCal+1 ||
		reg == regFWStatus || (reg >= regModelID && reg <= regModelID+2) || reg == regModeROI
}

func (e *Emulator) writeReg(reg uint16, b byte, now time.Time) {
	if readOnly(reg) {
		return
	}
	e.regs[reg] = b
	switch reg {
	case regSoftReset:
		if b&1 == 0 {
			e.inReset = true
			e.mode, e.meas, e.waitCl = 0, nil, false
		} else if e.inReset {
			e.reset(now)
		}
	case regAddr:
		e.newAddr = int(b & 0x7F)
	case regIntClear:
		if b&1 != 0 {
			e.pending, e.edge = false, false
			if e.waitCl {
				e.waitCl = false
				start := e.nextAt
				if start.Before(now) {
					start = now
				}
				e.startMeas(start)
			}
		}
	case regModeStart:
		switch {
		case b == 0 || b&0x80 != 0: // stop / abort
			e.mode, e.meas, e.waitCl = 0, nil, false
		case b == 0x40 || b == 0x20 || b == 0x10: // timed, back-to-back, single shot
			if e.mode == 0 {
				e.mode = b
				e.stream = 0
				e.startMeas(now)
			}
		default:
			e.fault = fmt.Sprintf("SYSTEM__MODE_START %#02x is not a ranging mode", b)
			e.mode, e.meas, e.waitCl = 0, nil, false
		}
	}
}

func (e *Emulator) readReg(reg uint16) byte {
	switch reg {
	case regTIOStatus:
		level := e.pending
		if e.regs[regHVMux]&0x10 != 0 { // active low
			level = !level
		}
		v := e.regs[regTIOStatus] &^ 1
		if level {
			v |= 1
		}
		return v
	}
	return e.regs[reg]
}

// timing decodes the timing budget and inter-measurement period from the
// registers, or says what is wrong with them.
func (e *Emulator) timing() (tb, im time.Duration, err error) {
	mode := e.regs[regPhasecal]
	tab, ok := budgets[mode]
	if !ok {
		return 0, 0, fmt.Errorf("PHASECAL_CONFIG__TIMEOUT_MACROP %#02x is neither short (0x14) nor long (0x0A) mode", mode)
	}
	a := binary.BigEndian.Uint16(e.regs[regTimeoutA:])
	ms, ok := tab[a]
	if !ok {
		return 0, 0, fmt.Errorf("RANGE_CONFIG__TIMEOUT_MACROP_A %#04x is no timing budget of this mode", a)
	}
	tb = ms * time.Millisecond
	osc := float64(binary.BigEndian.Uint16(e.regs[regOscCal:]) & 0x3FF)
	period := float64(binary.BigEndian.Uint32(e.regs[regIMPeriod:]))
	im = time.Duration(period / (osc * 1.075) * float64(time.Millisecond))
	return tb, im, nil
}

func (e *Emulator) startMeas(at time.Time) {
	tb, _, err := e.timing()
	if err != nil {
		e.fault = err.Error()
		e.meas = nil
		return
	}
	if e.regs[regIntConfig]&0x20 == 0 {
		e.fault = fmt.Sprintf("SYSTEM__INTERRUPT_CONFIG_GPIO %#02x: only new-sample-ready (0x20) is emulated", e.regs[regIntConfig])
		e.meas = nil
		return
	}
	latch := e.o.LatchDelay
	if latch > tb {
		latch = tb
	}
	e.meas = &measurement{start: at, latchAt: at.Add(latch), end: at.Add(tb)}
}

// advance runs the chip up to now: boot, ROI latches, completions and the
// measurements that follow.
func (e *Emulator) advance(now time.Time) {
	if !e.powered {
		return
	}
	if !e.inReset && !now.Before(e.bootAt) {
		e.regs[regFWStatus] = 1
	}
	for e.meas != nil {
		m := e.meas
		if !m.latched {
			if now.Before(m.latchAt) {
				return
			}
			m.roi = ROI{
				Center: e.regs[regROICentre],
				Width:  int(e.regs[regROISize]&0x0F) + 1,
				Height: int(e.regs[regROISize]>>4) + 1,
			}
			m.latched = true
		}
		if now.Before(m.end) {
			return
		}
		e.complete(m)
		e.meas = nil
		if e.mode == 0x10 { // single shot
			e.mode = 0
			return
		}
		_, im, _ := e.timing()
		next := m.start.Add(im)
		if e.mode == 0x20 || next.Before(m.end) {
			next = m.end
		}
		if e.o.FreeRunning {
			e.startMeas(next)
		} else {
			e.waitCl, e.nextAt = true, next
		}
	}
}

func (e *Emulator) complete(m *measurement) {
	dist, st := 0, 13
	if _, _, _, _, ok := m.roi.Bounds(); ok {
		dist, st = e.o.Scene(m.roi, m.end)
	}
	raw, ok := rawStatus[st]
	if !ok {
		raw = 0 // not a range status
	}
	if dist < 0 {
		dist = 0
	}
	if dist > 0xFFFF {
		dist = 0xFFFF
	}
	if e.stream == 0xFF {
		e.stream = 0x80
	} else {
		e.stream++
	}
	spads := m.roi.Width * m.roi.Height
	if spads > 255 {
		spads = 255
	}
	// Return signal falls with the square of the distance (9.7 fixed point
	// Mcps); ambient is constant.
	signal := 0
	if dist > 0 {
		signal = int(min(0xFFFF, 40_000_000/(dist*dist)*spads/16+1))
	}
	r := e.regs[regResults:]
	r[0] = 0x07 // RESULT__INTERRUPT_STATUS: new sample ready
	r[1] = raw  // RESULT__RANGE_STATUS
	r[2] = 0    // RESULT__REPORT_STATUS
	r[3] = e.stream
	binary.BigEndian.PutUint16(r[4:], uint16(spads)<<8)    // DSS_ACTUAL_EFFECTIVE_SPADS_SD0 (8.8)
	binary.BigEndian.PutUint16(r[6:], uint16(signal))      // PEAK_SIGNAL_COUNT_RATE_MCPS_SD0
	binary.BigEndian.PutUint16(r[8:], 0x0040)              // AMBIENT_COUNT_RATE_MCPS_SD0
	binary.BigEndian.PutUint16(r[10:], 0x0020)             // SIGMA_SD0
	binary.BigEndian.PutUint16(r[12:], uint16(dist>>2))    // PHASE_SD0 (not modelled)
	binary.BigEndian.PutUint16(r[14:], uint16(dist))       // FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0
	binary.BigEndian.PutUint16(r[16:], uint16(signal*7/8)) // PEAK_SIGNAL_..._CROSSTALK_CORRECTED
	e.done++
	e.lastROI = m.roi
	if !e.pending {
		e.pending, e.edge = true, true
	}
}

// nextAssert returns when the interrupt will next be asserted, if that is
// known without further bus traffic.
func (e *Emulator) nextAssert() (time.Time, bool) {
	if e.meas == nil || e.pending {
		return time.Time{}, false
	}
	return e.meas.end, true
}

// XShut returns the XSHUT input of the chip: Low powers it down (the address
// returns to 0x29), High powers it up and starts the boot.
func (e *Emulator) XShut() gpio.PinOut { return &xshutPin{e: e} }

// GPIO1 returns the interrupt output of the chip, with the polarity of
// GPIO_HV_MUX__CTRL. WaitForEdge sleeps on the emulator's Clock.
func (e *Emulator) GPIO1() gpio.PinIn { return &gpio1Pin{e: e} }

type xshutPin struct{ e *Emulator }

func (p *xshutPin) String() string   { return p.e.o.Name + ".XSHUT" }
func (p *xshutPin) Name() string     { return p.String() }
func (p *xshutPin) Number() int      { return -1 }
func (p *xshutPin) Function() string { return "Out" }
func (p *xshutPin) Halt() error      { return nil }
func (p *xshutPin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("vl53l1xtest: XSHUT has no PWM")
}
func (p *xshutPin) Out(l gpio.Level) error {
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clk.Now()
	e.advance(now)
	switch {
	case l == gpio.Low && e.powered:
		e.powered = false
		e.mode, e.meas, e.waitCl, e.pending, e.edge = 0, nil, false, false, false
	case l == gpio.High && !e.powered:
		e.powerOn(now)
	}
	return nil
}

type gpio1Pin struct{ e *Emulator }

var _ gpio.PinIn = (*gpio1Pin)(nil)
var _ pin.Pin = (*xshutPin)(nil)
var _ i2c.BusCloser = (*Emulator)(nil)

func (p *gpio1Pin) String() string         { return p.e.o.Name + ".GPIO1" }
func (p *gpio1Pin) Name() string           { return p.String() }
func (p *gpio1Pin) Number() int            { return -1 }
func (p *gpio1Pin) Function() string       { return "In" }
func (p *gpio1Pin) Halt() error            { return nil }
func (p *gpio1Pin) Pull() gpio.Pull        { return gpio.PullNoChange }
func (p *gpio1Pin) DefaultPull() gpio.Pull { return gpio.PullNoChange }
func (p *gpio1Pin) In(gpio.Pull, gpio.Edge) error {
	p.e.mu.Lock()
	p.e.edge = false
	p.e.mu.Unlock()
	return nil
}

// Read returns the GPIO1 level now.
func (p *gpio1Pin) Read() gpio.Level {
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.clk.Now())
	active := e.regs[regHVMux]&0x10 == 0
	return gpio.Level(e.pending == active)
}

// WaitForEdge waits until the interrupt is asserted (or was since the last
// call) or timeout passes; a negative timeout waits for ever.
func (p *gpio1Pin) WaitForEdge(timeout time.Duration) bool {
	e := p.e
	deadline := e.clk.Now().Add(timeout)
	for {
		e.mu.Lock()
		now := e.clk.Now()
		e.advance(now)
		if e.edge {
			e.edge = false
			e.mu.Unlock()
			return true
		}
		next, known := e.nextAssert()
		e.mu.Unlock()
		wait := maxWaitChunk
		if known && next.Sub(now) < wait {
			wait = next.Sub(now)
		}
		if timeout >= 0 {
			left := deadline.Sub(now)
			if left <= 0 {
				return false
			}
			wait = min(wait, left)
		}
		e.clk.Sleep(max(wait, time.Microsecond))
	}
}

// Bus is an I²C bus shared by several emulated sensors. Like a real bus, all
// sensors that answer an address see the transaction: writes reach all of
// them and reads return the wired-AND of their answers.
type Bus struct {
	mu   sync.Mutex
	devs []*Emulator
}

// NewBus returns a bus with the given sensors on it.
func NewBus(devs ...*Emulator) *Bus { return &Bus{devs: devs} }

func (b *Bus) String() string { return "vl53l1xtest.Bus" }

// SetSpeed accepts up to 1 MHz.
func (b *Bus) SetSpeed(f physic.Frequency) error {
	if f > physic.MegaHertz {
		return fmt.Errorf("vl53l1xtest: bus speed %s above 1MHz", f)
	}
	return nil
}

// Close closes nothing: the sensors stay usable.
func (b *Bus) Close() error { return nil }

// Tx implements i2c.Bus.
func (b *Bus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var on []*Emulator
	for _, e := range b.devs {
		if e.answers(addr) {
			on = append(on, e)
		}
	}
	switch len(on) {
	case 0:
		return fmt.Errorf("%w: %#x (no sensor on the bus answers it)", ErrNAK, addr)
	case 1:
		return on[0].Tx(addr, w, r)
	}
	for i := range r {
		r[i] = 0xFF
	}
	buf := make([]byte, len(r))
	for _, e := range on {
		if err := e.Tx(addr, w, buf); err != nil {
			return err
		}
		for i := range r {
			r[i] &= buf[i]
		}
	}
	return nil
}
