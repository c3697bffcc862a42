package vl53l1x

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// DistanceMode selects the VCSEL periods: Short ranges to about 1.3 m with
// better ambient immunity, Long to about 4 m (ULD numbering: 1 short, 2 long).
type DistanceMode uint8

// Distance modes. The zero value means the default, Long.
const (
	Short DistanceMode = 1
	Long  DistanceMode = 2
)

func (m DistanceMode) String() string {
	switch m {
	case Short:
		return "short"
	case Long:
		return "long"
	}
	return fmt.Sprintf("DistanceMode(%d)", uint8(m))
}

// Opts configures a Dev. Zero fields take the value of DefaultOpts.
type Opts struct {
	// Addr is the 7-bit address the sensor answers at now (0x29 after reset).
	Addr uint16
	// NewAddr, when not 0 and not Addr, moves the sensor to this address after
	// boot (I2C_SLAVE__DEVICE_ADDRESS). The change lasts until the next
	// power-down or XSHUT reset. To give several sensors on one bus their own
	// addresses, hold every XSHUT low (ResetAll), then call New for one sensor
	// at a time with its XShut and NewAddr: New releases that sensor alone from
	// reset and moves it before the next one wakes up at 0x29.
	NewAddr uint16
	// DistanceMode is Short or Long.
	DistanceMode DistanceMode
	// TimingBudget is the time of one measurement: 15 (short mode only), 20,
	// 33, 50, 100, 200 or 500 ms.
	TimingBudget time.Duration
	// InterMeasurement is the period between measurement starts; it must be
	// at least TimingBudget. Zero means TimingBudget (back to back).
	InterMeasurement time.Duration
	// XShut, when set, is the pin wired to XSHUT: New pulses it to reset the
	// sensor and Halt drives it low (sensor off).
	XShut gpio.PinOut
	// Interrupt, when set, is the pin wired to GPIO1: Read waits for its edge
	// instead of polling GPIO__TIO_HV_STATUS over I²C.
	Interrupt gpio.PinIn
	// ReadTimeout bounds how long Read waits for data; zero means
	// 2×(TimingBudget+InterMeasurement)+100 ms.
	ReadTimeout time.Duration
	// PollInterval is the pause between two data-ready polls (default 1 ms).
	PollInterval time.Duration
	// Now and Sleep are the clock (nil: time.Now and time.Sleep). An emulator
	// on a simulated clock passes its own so the driver runs in simulated time.
	Now   func() time.Time
	Sleep func(time.Duration)
}

// DefaultOpts are the options used for a nil *Opts and for zero fields: ST's
// defaults, long mode, 100 ms budget, one measurement every 100 ms.
var DefaultOpts = Opts{
	Addr:             DefaultAddr,
	DistanceMode:     Long,
	TimingBudget:     100 * time.Millisecond,
	InterMeasurement: 100 * time.Millisecond,
	PollInterval:     time.Millisecond,
}

// ROI is a region of interest of the 16×16 SPAD array.
type ROI struct {
	Width, Height int   // 4..16 SPADs
	Center        uint8 // SPAD number of the centre, as in ST's ROI table (199 = optical centre)
}

func (r ROI) String() string { return fmt.Sprintf("%dx%d@%d", r.Width, r.Height, r.Center) }

// Reading is one measurement.
type Reading struct {
	DistanceMM int   // RESULT__FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0
	Status     int   // ULD range status: 0 = valid range (see Status* constants)
	RawStatus  uint8 // RESULT__RANGE_STATUS bits 4:0 as the device reported it
	// ROI is the region this measurement was made with.
	ROI ROI
	// SignalKcps and AmbientKcps are the return signal and ambient rates in
	// kcps, SPADs the number of SPADs enabled (as in VL53L1X_GetResult).
	SignalKcps, AmbientKcps, SPADs int
	StreamCount                    uint8 // RESULT__STREAM_COUNT, counts measurements
}

// Valid reports whether the reading is a valid range.
func (r Reading) Valid() bool { return r.Status == StatusValid }

// Dev is a VL53L1X on an I²C bus. Its methods are safe for concurrent use.
type Dev struct {
	mu    sync.Mutex
	bus   i2c.Bus
	addr  uint16
	opts  Opts // with defaults applied
	now   func() time.Time
	sleep func(time.Duration)

	mode       DistanceMode
	budget     time.Duration
	interMeas  time.Duration
	activeHigh bool // GPIO_HV_MUX__CTRL bit 4 clear: data ready reads 1
	roi        ROI  // ROI the registers hold
	ranging    bool
	// pendingClear is set once Read took a result and the interrupt has not
	// been cleared yet (see Read: the clear is deferred).
	pendingClear bool
	readyAt      time.Time // when the last result was seen
	expect       time.Time // earliest time the next result can be ready
}

// Errors for conditions the caller can test with errors.Is.
var (
	ErrWrongModel = errors.New("vl53l1x: not a VL53L1X")
	ErrTimeout    = errors.New("vl53l1x: timeout")
	ErrNotRanging = errors.New("vl53l1x: not ranging (call StartRanging)")
)

// bootTimeout bounds the wait for FIRMWARE__SYSTEM_STATUS (tBOOT is 1.2 ms).
const bootTimeout = 500 * time.Millisecond

// New checks the model id, waits for the sensor to boot, optionally moves it
// to Opts.NewAddr, loads ST's default configuration and runs the ULD init
// (a first measurement that calibrates VHV), then applies the distance mode,
// timing budget and inter-measurement period. The sensor is left stopped.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	d := &Dev{bus: bus, addr: o.Addr, opts: o, now: o.Now, sleep: o.Sleep}
	if o.XShut != nil {
		// Reset: XSHUT low, then high; the sensor boots in tBOOT (1.2 ms).
		if err := o.XShut.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("vl53l1x: XSHUT low: %w", err)
		}
		d.sleep(time.Millisecond)
		if err := o.XShut.Out(gpio.High); err != nil {
			return nil, fmt.Errorf("vl53l1x: XSHUT high: %w", err)
		}
		d.sleep(1200 * time.Microsecond)
	}
	if err := d.checkModel(); err != nil {
		return nil, err
	}
	if err := d.waitBoot(); err != nil {
		return nil, err
	}
	if o.NewAddr != 0 && o.NewAddr != d.addr {
		if err := d.write(I2C_SLAVE__DEVICE_ADDRESS, byte(o.NewAddr)); err != nil {
			return nil, err
		}
		d.addr = o.NewAddr
		if err := d.checkModel(); err != nil {
			return nil, fmt.Errorf("after moving to address %#x: %w", o.NewAddr, err)
		}
	}
	if err := d.sensorInit(); err != nil {
		return nil, err
	}
	if err := d.applyMode(o.DistanceMode, o.TimingBudget); err != nil {
		return nil, err
	}
	if err := d.applyInterMeasurement(o.InterMeasurement); err != nil {
		return nil, err
	}
	if o.Interrupt != nil {
		edge := gpio.RisingEdge
		if !d.activeHigh {
			edge = gpio.FallingEdge
		}
		if err := o.Interrupt.In(gpio.PullNoChange, edge); err != nil {
			return nil, fmt.Errorf("vl53l1x: GPIO1 pin: %w", err)
		}
	}
	return d, nil
}

// ResetAll drives every XSHUT pin low so that all sensors are off; New then
// wakes them one at a time (see Opts.NewAddr).
func ResetAll(xshut ...gpio.PinOut) error {
	for _, p := range xshut {
		if err := p.Out(gpio.Low); err != nil {
			return fmt.Errorf("vl53l1x: XSHUT %s low: %w", p, err)
		}
	}
	return nil
}

func withDefaults(opts *Opts) (Opts, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
		if o.Addr == 0 {
			o.Addr = DefaultOpts.Addr
		}
		if o.DistanceMode == 0 {
			o.DistanceMode = DefaultOpts.DistanceMode
		}
		if o.TimingBudget == 0 {
			o.TimingBudget = DefaultOpts.TimingBudget
		}
		if o.PollInterval == 0 {
			o.PollInterval = DefaultOpts.PollInterval
		}
	}
	if o.InterMeasurement == 0 {
		o.InterMeasurement = o.TimingBudget
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	if o.Addr > 0x7F {
		return o, fmt.Errorf("vl53l1x: Addr %#x is not a 7-bit I²C address", o.Addr)
	}
	if o.NewAddr > 0x7F || (o.NewAddr != 0 && o.NewAddr < 0x08) || (o.NewAddr >= 0x78) {
		return o, fmt.Errorf("vl53l1x: NewAddr %#x: want a 7-bit address in 0x08..0x77", o.NewAddr)
	}
	if _, err := budgetRegs(o.DistanceMode, o.TimingBudget); err != nil {
		return o, err
	}
	if o.InterMeasurement < o.TimingBudget {
		return o, fmt.Errorf("vl53l1x: InterMeasurement %v is shorter than TimingBudget %v", o.InterMeasurement, o.TimingBudget)
	}
	if o.InterMeasurement > 10*time.Second {
		return o, fmt.Errorf("vl53l1x: InterMeasurement %v: want at most 10s", o.InterMeasurement)
	}
	if o.PollInterval < 0 || o.ReadTimeout < 0 {
		return o, errors.New("vl53l1x: PollInterval and ReadTimeout must not be negative")
	}
	return o, nil
}

func budgetRegs(m DistanceMode, tb time.Duration) (timeouts, error) {
	tab, ok := budgetTable[m]
	if !ok {
		return timeouts{}, fmt.Errorf("vl53l1x: unknown distance mode %d (want Short or Long)", uint8(m))
	}
	ms := int(tb / time.Millisecond)
	if t, ok := tab[ms]; ok && tb%time.Millisecond == 0 {
		return t, nil
	}
	if m == Short {
		return timeouts{}, fmt.Errorf("vl53l1x: timing budget %v not supported in short mode (want 15, 20, 33, 50, 100, 200 or 500 ms)", tb)
	}
	return timeouts{}, fmt.Errorf("vl53l1x: timing budget %v not supported in long mode (want 20, 33, 50, 100, 200 or 500 ms)", tb)
}

func (d *Dev) String() string {
	return fmt.Sprintf("VL53L1X{%s, %#x}", d.bus, d.addr)
}

// Addr returns the I²C address the sensor answers at.
func (d *Dev) Addr() uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr
}

// ROI returns the region of interest the sensor is set to.
func (d *Dev) ROI() ROI {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.roi
}

func (d *Dev) checkModel() error {
	var b [2]byte
	if err := d.read(IDENTIFICATION__MODEL_ID, b[:]); err != nil {
		return err
	}
	if id := binary.BigEndian.Uint16(b[:]); id != ModelID {
		return fmt.Errorf("%w: IDENTIFICATION__MODEL_ID at %#x reads %#04x, want %#04x", ErrWrongModel, d.addr, id, ModelID)
	}
	return nil
}

func (d *Dev) waitBoot() error {
	deadline := d.now().Add(bootTimeout)
	var b [1]byte
	for {
		if err := d.read(FIRMWARE__SYSTEM_STATUS, b[:]); err != nil {
			return err
		}
		if b[0]&1 != 0 {
			return nil
		}
		if !d.now().Before(deadline) {
			return fmt.Errorf("%w: FIRMWARE__SYSTEM_STATUS still %#02x after %v (sensor not booted)", ErrTimeout, b[0], bootTimeout)
		}
		d.sleep(d.opts.PollInterval)
	}
}

// sensorInit follows VL53L1X_SensorInit: load the default configuration,
// range once (VHV calibration), clear and stop, then set the VHV loop bound
// and start VHV from the previous temperature.
func (d *Dev) sensorInit() error {
	if err := d.write(0x2D, defaultConfig[:]...); err != nil {
		return err
	}
	d.mode = Long
	d.budget = 100 * time.Millisecond // A = 0x01CC in the default block
	d.interMeas = d.budget
	d.roi = ROI{Width: 16, Height: 16, Center: 199}
	var pol [1]byte
	if err := d.read(GPIO_HV_MUX__CTRL, pol[:]); err != nil {
		return err
	}
	d.activeHigh = pol[0]&0x10 == 0
	if err := d.start(); err != nil {
		return err
	}
	if err := d.waitReady(false); err != nil {
		return fmt.Errorf("vl53l1x: first (VHV) measurement: %w", err)
	}
	// Clear the interrupt and stop in one write: 0x86 then 0x87.
	if err := d.write(SYSTEM__INTERRUPT_CLEAR, 0x01, modeStop); err != nil {
		return err
	}
	d.ranging = false
	if err := d.write(VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND, 0x09); err != nil { // two bounds VHV
		return err
	}
	return d.write(VHV_CONFIG__INIT, 0x00) // start VHV from the previous temperature
}

// applyMode writes the distance mode registers (when the mode changes) and
// the timing budget. RANGE_CONFIG__TIMEOUT_MACROP_A, VCSEL_PERIOD_A,
// TIMEOUT_MACROP_B and VCSEL_PERIOD_B are adjacent (0x5E..0x63), so budget
// and VCSEL periods go in one write.
func (d *Dev) applyMode(m DistanceMode, tb time.Duration) error {
	t, err := budgetRegs(m, tb)
	if err != nil {
		return err
	}
	mr := modeTable[m]
	if m != d.mode {
		if err := d.write(PHASECAL_CONFIG__TIMEOUT_MACROP, mr.phasecal); err != nil {
			return err
		}
	}
	if err := d.write(RANGE_CONFIG__TIMEOUT_MACROP_A_HI, byte(t.a>>8), byte(t.a), mr.vcselA, byte(t.b>>8), byte(t.b), mr.vcselB); err != nil {
		return err
	}
	if m != d.mode {
		if err := d.write(RANGE_CONFIG__VALID_PHASE_HIGH, mr.validPhaseHigh); err != nil {
			return err
		}
		if err := d.write(SD_CONFIG__WOI_SD0, byte(mr.woiSD0>>8), byte(mr.woiSD0), byte(mr.initialPhaseSD0>>8), byte(mr.initialPhaseSD0)); err != nil {
			return err
		}
	}
	d.mode, d.budget = m, tb
	return nil
}

// applyInterMeasurement writes SYSTEM__INTERMEASUREMENT_PERIOD in oscillator
// clocks: RESULT__OSC_CALIBRATE_VAL (10 bits) × ms × 1.075, as the ULD does.
func (d *Dev) applyInterMeasurement(im time.Duration) error {
	var b [2]byte
	if err := d.read(RESULT__OSC_CALIBRATE_VAL, b[:]); err != nil {
		return err
	}
	osc := uint64(binary.BigEndian.Uint16(b[:]) & 0x3FF)
	if osc == 0 {
		return errors.New("vl53l1x: RESULT__OSC_CALIBRATE_VAL reads 0, cannot program the inter-measurement period")
	}
	v := osc * uint64(im/time.Microsecond) * 1075 / 1000000
	if err := d.write(SYSTEM__INTERMEASUREMENT_PERIOD, byte(v>>24), byte(v>>16), byte(v>>8), byte(v)); err != nil {
		return err
	}
	d.interMeas = im
	return nil
}

// SetROI sets the region of interest: width and height 4..16 SPADs, centre
// as a SPAD number of ST's ROI table (e.g. 167 and 231 for the two 8×16
// halves used for people counting, 199 for the optical centre).
//
// The sensor takes the ROI from its registers when a measurement starts. A
// measurement may already be under way with the old ROI: UM2510 §3.1 says
// the VL53L1X keeps ranging while an interrupt is pending, and ST's people
// counting example warns that a ROI written right after the interrupt clear
// can land in the measurement just starting. So when the ROI changes while
// ranging, SetROI stops the sensor, writes the ROI and restarts it: the
// measurement that the next Read returns is the one started by that restart,
// with the new ROI, whatever the chip does with a pending interrupt.
//
// This is cheap because Read defers its interrupt clear (see Read): when the
// caller alternates Read and SetROI, the stop lands on a sensor that has not
// started a new measurement yet (or only just has), so no measurement time
// is lost, and the restart write carries the interrupt clear that Read would
// have sent anyway. A zone switch costs two extra writes (stop 3 bytes, ROI
// 4 bytes); the alternative of letting one old-ROI measurement go by would
// cost a whole timing budget per switch. An unchanged ROI costs nothing.
func (d *Dev) SetROI(width, height int, center uint8) error {
	if width < 4 || width > 16 {
		return fmt.Errorf("vl53l1x: ROI width %d: want 4..16 SPADs", width)
	}
	if height < 4 || height > 16 {
		return fmt.Errorf("vl53l1x: ROI height %d: want 4..16 SPADs", height)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := ROI{Width: width, Height: height, Center: center}
	if r == d.roi {
		return nil
	}
	if !d.ranging {
		return d.writeROI(r)
	}
	if err := d.write(SYSTEM__MODE_START, modeStop); err != nil {
		return err
	}
	d.ranging = false
	if err := d.writeROI(r); err != nil {
		return err
	}
	return d.start()
}

// writeROI writes ROI_CONFIG__USER_ROI_CENTRE_SPAD and, in the same write,
// ROI_CONFIG__USER_ROI_REQUESTED_GLOBAL_XY_SIZE ((height-1)<<4 | (width-1)).
func (d *Dev) writeROI(r ROI) error {
	if err := d.write(ROI_CONFIG__USER_ROI_CENTRE_SPAD, r.Center, byte(r.Height-1)<<4|byte(r.Width-1)); err != nil {
		return err
	}
	d.roi = r
	return nil
}

// SetDistanceMode changes the distance mode, keeping the timing budget. A
// running sensor is stopped and restarted so that no reading mixes settings.
func (d *Dev) SetDistanceMode(m DistanceMode) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := budgetRegs(m, d.budget); err != nil {
		return err
	}
	return d.reconfigure(func() error { return d.applyMode(m, d.budget) })
}

// SetTimingBudget changes the timing budget (see Opts.TimingBudget). If the
// inter-measurement period is shorter than the new budget, it is raised to it.
func (d *Dev) SetTimingBudget(tb time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := budgetRegs(d.mode, tb); err != nil {
		return err
	}
	return d.reconfigure(func() error {
		if err := d.applyMode(d.mode, tb); err != nil {
			return err
		}
		if d.interMeas < tb {
			return d.applyInterMeasurement(tb)
		}
		return nil
	})
}

// SetInterMeasurement changes the period between measurement starts; it must
// be at least the timing budget.
func (d *Dev) SetInterMeasurement(im time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if im < d.budget || im > 10*time.Second {
		return fmt.Errorf("vl53l1x: inter-measurement period %v: want %v..10s", im, d.budget)
	}
	return d.reconfigure(func() error { return d.applyInterMeasurement(im) })
}

func (d *Dev) reconfigure(apply func() error) error {
	if !d.ranging {
		return apply()
	}
	if err := d.write(SYSTEM__MODE_START, modeStop); err != nil {
		return err
	}
	d.ranging = false
	if err := apply(); err != nil {
		return err
	}
	return d.start()
}

// StartRanging clears any pending interrupt and starts autonomous ranging.
func (d *Dev) StartRanging() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.start()
}

// start writes SYSTEM__INTERRUPT_CLEAR and SYSTEM__MODE_START in one write
// (0x86, 0x87): a stale result can never be mistaken for the new one.
func (d *Dev) start() error {
	if err := d.write(SYSTEM__INTERRUPT_CLEAR, 0x01, modeTimed); err != nil {
		return err
	}
	d.ranging, d.pendingClear = true, false
	d.expect = d.now().Add(d.budget)
	return nil
}

// StopRanging stops ranging and clears a pending interrupt (one write).
func (d *Dev) StopRanging() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stop()
}

func (d *Dev) stop() error {
	if err := d.write(SYSTEM__INTERRUPT_CLEAR, 0x01, modeStop); err != nil {
		return err
	}
	d.ranging, d.pendingClear = false, false
	return nil
}

// Read waits for the next measurement, reads its range status and distance
// and clears the interrupt.
//
// The interrupt of a reading is cleared when the next measurement is wanted:
// at the start of the next Read, by SetROI (restart), StopRanging or Halt.
// The bus traffic is the same single write; deferring it lets SetROI change
// the ROI before the chip is told to go on (see SetROI).
func (d *Dev) Read() (Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ranging {
		return Reading{}, ErrNotRanging
	}
	if d.pendingClear {
		if err := d.write(SYSTEM__INTERRUPT_CLEAR, 0x01); err != nil {
			return Reading{}, err
		}
		d.pendingClear = false
		// The next measurement started no earlier than one period after the
		// last one and, if the chip waited for this clear, now.
		start := d.readyAt.Add(d.interMeas - d.budget)
		if t := d.now(); start.Before(t) {
			start = t
		}
		d.expect = start.Add(d.budget)
	}
	if err := d.waitReady(true); err != nil {
		return Reading{}, err
	}
	var b [17]byte
	if err := d.read(RESULT__RANGE_STATUS, b[:]); err != nil {
		return Reading{}, err
	}
	d.pendingClear = true
	d.readyAt = d.now()
	raw := b[0] & 0x1F
	st := StatusUnknown
	if int(raw) < len(statusMap) {
		st = int(statusMap[raw])
	}
	return Reading{
		DistanceMM:  int(binary.BigEndian.Uint16(b[13:15])),
		Status:      st,
		RawStatus:   raw,
		ROI:         d.roi,
		SPADs:       int(b[3]),
		AmbientKcps: int(binary.BigEndian.Uint16(b[7:9])) * 8,
		SignalKcps:  int(binary.BigEndian.Uint16(b[15:17])) * 8,
		StreamCount: b[2],
	}, nil
}

// waitReady waits until the data-ready interrupt is asserted: on the GPIO1
// pin when there is one (and pin is true), else by polling
// GPIO__TIO_HV_STATUS bit 0 against the polarity of GPIO_HV_MUX__CTRL. The
// first poll is at the expected end of the measurement.
func (d *Dev) waitReady(pin bool) error {
	timeout := d.opts.ReadTimeout
	if timeout == 0 {
		timeout = 2*(d.budget+d.interMeas) + 100*time.Millisecond
	}
	deadline := d.now().Add(timeout)
	if pin && d.opts.Interrupt != nil {
		active := gpio.Level(d.activeHigh)
		for {
			if d.opts.Interrupt.Read() == active {
				return nil
			}
			left := deadline.Sub(d.now())
			if left <= 0 {
				return fmt.Errorf("%w: no data-ready edge on GPIO1 pin %s within %v", ErrTimeout, d.opts.Interrupt, timeout)
			}
			d.opts.Interrupt.WaitForEdge(left)
		}
	}
	if w := d.expect.Sub(d.now()); w > 0 {
		d.sleep(w)
	}
	var b [1]byte
	for {
		if err := d.read(GPIO__TIO_HV_STATUS, b[:]); err != nil {
			return err
		}
		if (b[0]&1 == 1) == d.activeHigh {
			return nil
		}
		if !d.now().Before(deadline) {
			return fmt.Errorf("%w: GPIO__TIO_HV_STATUS shows no data ready within %v", ErrTimeout, timeout)
		}
		d.sleep(d.opts.PollInterval)
	}
}

// Halt stops ranging and, with an XSHUT pin, switches the sensor off (its
// address goes back to 0x29 when it wakes up).
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var err error
	if d.ranging || d.pendingClear {
		err = d.stop()
	}
	if d.opts.XShut != nil {
		if e := d.opts.XShut.Out(gpio.Low); e != nil && err == nil {
			err = fmt.Errorf("vl53l1x: XSHUT low: %w", e)
		}
	}
	return err
}

// write writes data to consecutive registers from reg in one transaction.
func (d *Dev) write(reg uint16, data ...byte) error {
	var buf [2 + len(defaultConfig)]byte
	binary.BigEndian.PutUint16(buf[:], reg)
	n := copy(buf[2:], data)
	if err := d.bus.Tx(d.addr, buf[:2+n], nil); err != nil {
		return fmt.Errorf("vl53l1x: write %s at %#x: %w", regName(reg), d.addr, err)
	}
	return nil
}

// read reads len(b) bytes from consecutive registers from reg.
func (d *Dev) read(reg uint16, b []byte) error {
	var w [2]byte
	binary.BigEndian.PutUint16(w[:], reg)
	if err := d.bus.Tx(d.addr, w[:], b); err != nil {
		return fmt.Errorf("vl53l1x: read %s at %#x: %w", regName(reg), d.addr, err)
	}
	return nil
}

var regNames = map[uint16]string{
	I2C_SLAVE__DEVICE_ADDRESS:             "I2C_SLAVE__DEVICE_ADDRESS",
	VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND: "VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND",
	VHV_CONFIG__INIT:                      "VHV_CONFIG__INIT",
	0x2D:                                  "default configuration 0x2D..0x87",
	GPIO_HV_MUX__CTRL:                     "GPIO_HV_MUX__CTRL",
	GPIO__TIO_HV_STATUS:                   "GPIO__TIO_HV_STATUS",
	PHASECAL_CONFIG__TIMEOUT_MACROP:       "PHASECAL_CONFIG__TIMEOUT_MACROP",
	RANGE_CONFIG__TIMEOUT_MACROP_A_HI:     "RANGE_CONFIG__TIMEOUT_MACROP_A..VCSEL_PERIOD_B",
	RANGE_CONFIG__VALID_PHASE_HIGH:        "RANGE_CONFIG__VALID_PHASE_HIGH",
	SYSTEM__INTERMEASUREMENT_PERIOD:       "SYSTEM__INTERMEASUREMENT_PERIOD",
	SD_CONFIG__WOI_SD0:                    "SD_CONFIG__WOI_SD0",
	ROI_CONFIG__USER_ROI_CENTRE_SPAD:      "ROI_CONFIG__USER_ROI_CENTRE_SPAD",
	SYSTEM__INTERRUPT_CLEAR:               "SYSTEM__INTERRUPT_CLEAR",
	SYSTEM__MODE_START:                    "SYSTEM__MODE_START",
	RESULT__RANGE_STATUS:                  "RESULT__RANGE_STATUS",
	RESULT__OSC_CALIBRATE_VAL:             "RESULT__OSC_CALIBRATE_VAL",
	FIRMWARE__SYSTEM_STATUS:               "FIRMWARE__SYSTEM_STATUS",
	IDENTIFICATION__MODEL_ID:              "IDENTIFICATION__MODEL_ID",
}

func regName(reg uint16) string {
	if n, ok := regNames[reg]; ok {
		return n
	}
	return fmt.Sprintf("register %#04x", reg)
}
