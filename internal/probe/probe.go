package probe

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532"
	"github.com/omo-edge/edge-agent/drivers/people-counter/beam"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pir"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pulse"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Hardware opens what sensors are wired to. Buses and ports are shared by
// the sensors on them: an implementation hands out the same one for the
// same name and closes them itself.
type Hardware interface {
	I2C(name string) (i2c.Bus, error)
	SPI(name string) (spi.Port, error)
	Pin(name string) (gpio.PinIn, error)
}

// Status is the verdict on one sensor or one check.
type Status string

// Verdicts, from good to bad.
const (
	OK          Status = "ok"
	Suspicious  Status = "suspicious"   // it answers, but something looks wrongly wired
	WrongDevice Status = "wrong_device" // something else answers where the sensor should
	Missing     Status = "missing"      // nothing answers
	BusError    Status = "bus_error"    // the bus or line cannot be opened
)

func (s Status) rank() int {
	switch s {
	case OK:
		return 0
	case Suspicious:
		return 1
	case WrongDevice:
		return 2
	case Missing:
		return 3
	}
	return 4
}

// Check is one thing looked at.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"` // what to check, when not OK
}

// Result is the verdict on one sensor: the worst of its checks.
type Result struct {
	Sensor    string  `json:"sensor"`
	Kind      string  `json:"kind"`
	Simulated bool    `json:"simulated"`
	Status    Status  `json:"status"`
	Checks    []Check `json:"checks"`
}

// Scan is the addresses that answered on one I²C bus.
type Scan struct {
	Bus   string   `json:"bus"`
	Acked []uint16 `json:"acked"`
}

// Report is the outcome of Run.
type Report struct {
	Sensors []Result `json:"sensors"`
	Scans   []Scan   `json:"i2c_scans"`
}

// OK reports whether every sensor is OK.
func (r Report) OK() bool {
	for _, s := range r.Sensors {
		if s.Status != OK {
			return false
		}
	}
	return true
}

// Options configure Run.
type Options struct {
	// Host is the machine's hardware, for sensors without simulate:.
	Host Hardware
	// Emulated returns the emulated chips of a simulated sensor (default
	// Emulate).
	Emulated func(sc config.SensorConfig) (Hardware, error)
	// Record, when set, keeps the bus traffic of every sensor.
	Record *Recorder
	// Samples is how many times a GPIO line is read (default 5),
	// SampleEvery apart (default 20 ms), with Sleep (default time.Sleep).
	Samples     int
	SampleEvery time.Duration
	Sleep       func(time.Duration)
	// PN532 timing hooks (default the driver's): tests swap in a fake clock.
	Now func() time.Time
}

// Run probes every sensor of cfg.
func Run(cfg *config.Config, o Options) Report {
	if o.Emulated == nil {
		o.Emulated = Emulate
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = 20 * time.Millisecond
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	p := &prober{o: o, cfg: cfg, scans: map[string]*Scan{}}
	var host Hardware
	if o.Host != nil {
		host = o.Host
		if o.Record != nil {
			host = o.Record.Wrap("", host)
		}
	}
	var rep Report
	for _, sc := range cfg.Sensors {
		res := Result{Sensor: sc.ID, Kind: sc.Kind, Simulated: sc.Simulate != nil}
		hw, prefix := host, ""
		if sc.Simulate != nil {
			prefix = "sim:" + sc.ID + " "
			emu, err := o.Emulated(sc)
			if err != nil {
				res.Checks = []Check{{Name: "emulator", Status: BusError, Detail: err.Error(),
					Hint: "fix the sensor's simulate: keys (edge-agent config validate)"}}
				res.Status = BusError
				rep.Sensors = append(rep.Sensors, res)
				continue
			}
			hw = emu
			if o.Record != nil {
				hw = o.Record.Wrap(prefix, hw)
			}
		}
		if hw == nil {
			hw = noHardware{}
		}
		res.Checks = p.sensor(sc, hw, prefix)
		res.Status = OK
		for _, c := range res.Checks {
			if c.Status.rank() > res.Status.rank() {
				res.Status = c.Status
			}
		}
		rep.Sensors = append(rep.Sensors, res)
	}
	for _, name := range p.scanOrder {
		s := p.scans[name]
		slices.Sort(s.Acked)
		rep.Scans = append(rep.Scans, *s)
	}
	return rep
}

type noHardware struct{}

var errNoHost = errors.New("no hardware access on this machine")

func (noHardware) I2C(string) (i2c.Bus, error)    { return nil, errNoHost }
func (noHardware) SPI(string) (spi.Port, error)   { return nil, errNoHost }
func (noHardware) Pin(string) (gpio.PinIn, error) { return nil, errNoHost }

type prober struct {
	o         Options
	cfg       *config.Config
	scans     map[string]*Scan // by label: one scan per bus
	scanOrder []string
	// adcs: one MCP3008 per SPI port (a port connects once).
	adcs map[string]*mcp3008.Dev
}

func (p *prober) sensor(sc config.SensorConfig, hw Hardware, prefix string) []Check {
	switch sensor.Kind(sc.Kind) {
	case sensor.KindToF2Zone:
		return p.vl53l1x(sc, hw, prefix)
	case sensor.KindToFPresence:
		if sc.ADC != "" {
			return p.sharp(sc, hw, prefix)
		}
		return p.vl53l1x(sc, hw, prefix)
	case sensor.KindBeamPair:
		o := beam.DefaultOpts
		return p.lines(sc, hw, []string{"a", "b"}, pullOf(sc.Pull, o.Pull), activeLowOf(sc, o.ActiveLow), beamVerdict)
	case sensor.KindPulse:
		o := pulse.DefaultOpts
		var chans []string
		for _, ch := range sensor.KindPulse.Channels() {
			if sc.Pins[ch] != "" {
				chans = append(chans, ch)
			}
		}
		return p.lines(sc, hw, chans, pullOf(sc.Pull, o.Pull), activeLowOf(sc, o.ActiveLow), pulseVerdict)
	case sensor.KindPIR:
		o := pir.DefaultOpts
		return p.lines(sc, hw, []string{"motion"}, pullOf(sc.Pull, o.Pull), activeLowOf(sc, o.ActiveLow), pirVerdict)
	case sensor.KindNFCPlate:
		return p.ntag(sc, hw, prefix)
	case sensor.KindNFCReader:
		return p.pn532(sc, hw, prefix)
	}
	return []Check{{Name: "kind", Status: BusError, Detail: fmt.Sprintf("kind %q has no probe", sc.Kind)}}
}

const i2cHint = "is I2C enabled (raspi-config → Interface Options → I2C) and is the bus name right (1 = /dev/i2c-1)?"

// scan lists the addresses 0x08..0x77 that acknowledge a one-byte read, as
// i2cdetect -r does (a read cannot change a chip's registers), once per bus.
func (p *prober) scan(label string, bus i2c.Bus) *Scan {
	if s, ok := p.scans[label]; ok {
		return s
	}
	s := &Scan{Bus: label, Acked: []uint16{}}
	var b [1]byte
	for a := uint16(0x08); a <= 0x77; a++ {
		if bus.Tx(a, nil, b[:]) == nil {
			s.Acked = append(s.Acked, a)
		}
	}
	p.scans[label] = s
	p.scanOrder = append(p.scanOrder, label)
	return s
}

// answered notes an address that answered a sensor's own read, although
// it did not acknowledge the scan's bare read (an NTAG wants a block
// address first).
func (s *Scan) answered(a uint16) {
	if !slices.Contains(s.Acked, a) {
		s.Acked = append(s.Acked, a)
	}
}

func (s *Scan) has(a uint16) bool { return slices.Contains(s.Acked, a) }

func (s *Scan) String() string {
	if len(s.Acked) == 0 {
		return "nothing answers"
	}
	parts := make([]string, len(s.Acked))
	for i, a := range s.Acked {
		parts[i] = fmt.Sprintf("%#02x", a)
	}
	slices.Sort(parts)
	if len(parts) == 1 {
		return parts[0] + " answers"
	}
	return strings.Join(parts, " ") + " answer"
}

// openI2C opens a sensor's bus and scans it.
func (p *prober) openI2C(hw Hardware, prefix, name string) (i2c.Bus, *Scan, []Check) {
	label := prefix + "I2C " + busName(name)
	bus, err := hw.I2C(name)
	if err != nil {
		return nil, nil, []Check{{Name: "bus", Status: BusError, Detail: fmt.Sprintf("%s: %v", label, err), Hint: i2cHint}}
	}
	return bus, p.scan(label, bus), nil
}

// others says what else answers on a bus, for a hint.
func others(s *Scan) string {
	if len(s.Acked) == 0 {
		return "nothing at all answers on this bus: check SDA (GPIO2, pin 3), SCL (GPIO3, pin 5), 3.3 V and GND"
	}
	return "the bus has " + s.String() + ": is the address in the config right?"
}

func (p *prober) vl53l1x(sc config.SensorConfig, hw Hardware, prefix string) []Check {
	bus, s, fail := p.openI2C(hw, prefix, sc.Bus)
	if fail != nil {
		return fail
	}
	checks := []Check{{Name: "i2c scan", Status: OK, Detail: s.Bus + ": " + s.String()}}
	addr := uint16(vl53l1x.DefaultAddr)
	// The daemon moves a sensor to its configured address at start; after a
	// power cycle it answers at 0x29 again.
	cands := []uint16{addr}
	if sc.Address != 0 && sc.Address != addr {
		cands = []uint16{sc.Address, addr}
	}
	var xshutNote string
	if sc.XShut != "" && prefix == "" {
		off, err := p.xshutAlone(sc, hw)
		if err != nil {
			return append(checks, Check{Name: "xshut", Status: BusError, Detail: err.Error(),
				Hint: "is the XSHUT GPIO name right, and does the agent's user have access to /dev/gpiochip0 (group gpio)?"})
		}
		defer off()
		// Just powered up: at the power-on address.
		cands = []uint16{addr}
		xshutNote = fmt.Sprintf(" (powered alone on the bus with XSHUT %s)", sc.XShut)
	}
	var at uint16
	var id [2]byte
	var rerr error
	reg := vl53l1x.IDENTIFICATION__MODEL_ID
	for _, a := range cands {
		if rerr = bus.Tx(a, []byte{byte(reg >> 8), byte(reg)}, id[:]); rerr == nil {
			at = a
			s.answered(a)
			break
		}
	}
	if at == 0 {
		checks[0].Status = Missing
		hint := fmt.Sprintf("no VL53L1X answers at %s: check its VIN, GND, SDA, SCL", addrList(cands))
		if xshutNote != "" {
			hint += fmt.Sprintf(", and the XSHUT wire (%s, driven high for this probe)", sc.XShut)
		}
		checks[0].Hint = hint + "; " + others(s)
		return checks
	}
	model := uint16(id[0])<<8 | uint16(id[1])
	c := Check{Name: "model id", Status: OK, Detail: fmt.Sprintf("IDENTIFICATION__MODEL_ID at %#02x reads %#04x: a VL53L1X%s", at, model, xshutNote)}
	if model != vl53l1x.ModelID {
		c.Status = WrongDevice
		c.Detail = fmt.Sprintf("IDENTIFICATION__MODEL_ID at %#02x reads %#04x, want %#04x: not a VL53L1X%s", at, model, vl53l1x.ModelID, xshutNote)
		c.Hint = "another chip answers at this address: check the board is a VL53L1X (a VL53L0X or VL6180X looks alike) and the address in the config"
	} else if sc.Address != 0 && at != sc.Address && xshutNote == "" {
		c.Detail += fmt.Sprintf(" at its power-on address; the daemon moves it to %#02x at start", sc.Address)
	}
	return append(checks, c)
}

// xshutBoot is how long a VL53L1X takes from XSHUT high until it answers
// (tBOOT, 1.2 ms max).
const xshutBoot = 2 * time.Millisecond

// xshutAlone powers sensor sc alone among the XSHUT-wired sensors of its
// bus: the daemon's Halt leaves each of them off (XSHUT low), and all of
// them on would answer together at 0x29. off powers it down again, as the
// daemon left it.
func (p *prober) xshutAlone(sc config.SensorConfig, hw Hardware) (off func(), err error) {
	drive := func(name string, l gpio.Level) error {
		pin, err := hw.Pin(name)
		if err != nil {
			return err
		}
		out, ok := pin.(gpio.PinOut)
		if !ok || pin == nil {
			return fmt.Errorf("XSHUT %s cannot be driven: not an output line", name)
		}
		if err := out.Out(l); err != nil {
			return fmt.Errorf("XSHUT %s: %w", name, err)
		}
		return nil
	}
	for _, o := range p.cfg.Sensors {
		if o.ID != sc.ID && o.XShut != "" && o.Bus == sc.Bus && o.Simulate == nil {
			if err := drive(o.XShut, gpio.Low); err != nil {
				return nil, err
			}
		}
	}
	if err := drive(sc.XShut, gpio.High); err != nil {
		return nil, err
	}
	p.o.Sleep(xshutBoot)
	return func() { _ = drive(sc.XShut, gpio.Low) }, nil
}

func addrList(as []uint16) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%#02x", a)
	}
	return strings.Join(parts, " or ")
}

// sharpMinVolts is the input below which a Sharp sensor is taken as not
// connected: its output stays above ~0.25 V while powered, even with
// nothing in range (the datasheets' curves).
const sharpMinVolts = 0.1

func (p *prober) sharp(sc config.SensorConfig, hw Hardware, prefix string) []Check {
	label := prefix + "SPI " + busName(sc.SPI)
	o := mcp3008.DefaultOpts
	if sc.Vref > 0 {
		o.Vref = sc.Vref
	}
	adc, ok := p.adcs[label]
	if !ok {
		port, err := hw.SPI(sc.SPI)
		if err != nil {
			return []Check{{Name: "bus", Status: BusError, Detail: fmt.Sprintf("%s: %v", label, err),
				Hint: "is SPI enabled (raspi-config → Interface Options → SPI) and is the port right (/dev/spidev0.0 = SPI0.0)?"}}
		}
		if adc, err = mcp3008.New(port, &o); err != nil {
			return []Check{{Name: "bus", Status: BusError, Detail: fmt.Sprintf("MCP3008 on %s: %v", label, err)}}
		}
		if p.adcs == nil {
			p.adcs = map[string]*mcp3008.Dev{}
		}
		p.adcs[label] = adc
	}
	var codes [mcp3008.Channels]int
	for ch := range codes {
		c, err := adc.Read(ch)
		if err != nil {
			return []Check{{Name: "mcp3008", Status: BusError, Detail: fmt.Sprintf("%s: CH%d: %v", label, ch, err)}}
		}
		codes[ch] = c
	}
	detail := fmt.Sprintf("%s: CH0..CH7 read %v", label, codes[:])
	all := func(v int) bool {
		for _, c := range codes {
			if c != v {
				return false
			}
		}
		return true
	}
	adcCheck := Check{Name: "mcp3008", Status: OK, Detail: detail}
	switch {
	case all(mcp3008.MaxCode):
		adcCheck.Status = Suspicious
		adcCheck.Hint = "every input reads 1023: MISO (DOUT, pin 12) floats high or is not connected, or CS (pin 10) is on another chip-select line"
	case all(0):
		adcCheck.Status = Suspicious
		adcCheck.Hint = "every input reads 0: the MCP3008 has no power (VDD pin 16, VREF pin 15, AGND/DGND) or MISO (DOUT, pin 12) is not connected"
	}
	checks := []Check{adcCheck}
	if adcCheck.Status != OK || sc.Channel == nil {
		return checks
	}
	ch := *sc.Channel
	v := mcp3008.Volts(codes[ch], o.Vref)
	c := Check{Name: fmt.Sprintf("input CH%d", ch), Status: OK, Detail: fmt.Sprintf("the Sharp sensor's output reads %.2f V", v)}
	if v < sharpMinVolts {
		c.Status = Suspicious
		c.Hint = fmt.Sprintf("CH%d reads about 0 V: the Sharp sensor's output does not reach CH%d: check its 5 V supply, GND and its Vo wire, and the channel in the config", ch, ch)
	}
	return append(checks, c)
}

func (p *prober) ntag(sc config.SensorConfig, hw Hardware, prefix string) []Check {
	n := sc.NFC
	if n == nil {
		n = &config.NFCSensorConfig{}
	}
	bus, s, fail := p.openI2C(hw, prefix, n.Bus)
	if fail != nil {
		return fail
	}
	addr := ntag.DefaultOpts.Addr
	if n.Address != 0 {
		addr = n.Address
	}
	checks := []Check{{Name: "i2c scan", Status: OK, Detail: s.Bus + ": " + s.String()}}
	// Block 0 (MEMA 00h): byte 0 is the manufacturer byte (04h, NXP) in
	// place of the I²C address, bytes 12..15 the capability container.
	var blk [16]byte
	if err := bus.Tx(addr, []byte{0x00}, blk[:]); err != nil {
		checks[0].Status = Missing
		checks[0].Detail = fmt.Sprintf("%s: %s; block 0 at %#02x: %v", s.Bus, s.String(), addr, err)
		checks[0].Hint = fmt.Sprintf("no NTAG I2C plus answers at %#02x: check its VCC, GND, SDA, SCL; ", addr) + others(s)
		return checks
	}
	s.answered(addr)
	checks[0].Detail = s.Bus + ": " + s.String()
	if blk[0] != 0x04 {
		return append(checks, Check{Name: "manufacturer", Status: WrongDevice,
			Detail: fmt.Sprintf("block 0 byte 0 at %#02x reads %02Xh, want 04h (NXP)", addr, blk[0]),
			Hint:   "another chip answers at this address: check the plate's board is an NTAG I2C plus and the address in the config"})
	}
	checks = append(checks, Check{Name: "manufacturer", Status: OK, Detail: "block 0 byte 0 reads 04h (NXP)"})
	cc := ntag.CC(blk[12:16])
	if !cc.Valid() {
		return append(checks, Check{Name: "capability container", Status: Suspicious,
			Detail: fmt.Sprintf("capability container %s is not NDEF-formatted", cc),
			Hint:   fmt.Sprintf("phones ignore an unformatted tag: format it with the factory container (%s for the 1k chip, %s for the 2k)", ntag.CC1k, ntag.CC2k)})
	}
	// The variant from the container's data area size, as the driver
	// identifies it, without its session register writes: probe only reads.
	var v ntag.Variant
	switch cc[2] {
	case ntag.CC1k[2]:
		v = ntag.NT3H2111
	case ntag.CC2k[2]:
		v = ntag.NT3H2211
	default:
		return append(checks, Check{Name: "capability container", Status: Suspicious,
			Detail: fmt.Sprintf("capability container %s announces %d bytes: neither the 1k (%s) nor the 2k (%s) chip's", cc, cc.DataArea(), ntag.CC1k, ntag.CC2k),
			Hint:   "the tag was formatted for another size: reformat it with its factory container"})
	}
	return append(checks, Check{Name: "capability container", Status: OK,
		Detail: fmt.Sprintf("%s: NDEF data area %d bytes, chip %s", cc, cc.DataArea(), v)})
}

func (p *prober) pn532(sc config.SensorConfig, hw Hardware, prefix string) []Check {
	n := sc.NFC
	if n == nil {
		n = &config.NFCSensorConfig{}
	}
	o := pn532.DefaultOpts
	if n.Address != 0 {
		o.Addr = n.Address
	}
	if p.o.Now != nil {
		o.Now = p.o.Now
		o.Sleep = p.o.Sleep
	}
	var dev *pn532.Dev
	var err error
	var checks []Check
	var where string
	var s *Scan
	if n.SPI != "" {
		where = prefix + "SPI " + busName(n.SPI)
		port, perr := hw.SPI(n.SPI)
		if perr != nil {
			return []Check{{Name: "bus", Status: BusError, Detail: fmt.Sprintf("%s: %v", where, perr),
				Hint: "is SPI enabled (raspi-config → Interface Options → SPI) and is the port right?"}}
		}
		dev, err = pn532.NewSPI(port, &o)
	} else {
		var bus i2c.Bus
		bus, s, checks = p.openI2C(hw, prefix, n.Bus)
		if checks != nil {
			return checks
		}
		where = fmt.Sprintf("%s at %#02x", s.Bus, o.Addr)
		checks = []Check{{Name: "i2c scan", Status: OK, Detail: s.Bus + ": " + s.String()}}
		dev, err = pn532.NewI2C(bus, &o)
	}
	if err != nil {
		c := Check{Name: "firmware version", Status: Missing, Detail: fmt.Sprintf("%s: %v", where, err)}
		switch {
		case errors.Is(err, pn532.ErrNotPN532):
			c.Status = WrongDevice
			c.Hint = "a chip answers GetFirmwareVersion but is not a PN532 (IC 0x32): check the board"
		case s != nil && s.has(o.Addr):
			c.Status = Suspicious
			c.Hint = "the address answers but no PN532 frame comes back: check the board's interface-select switches are set for I2C (PN532 I0 high, I1 low) and power it off and on"
		case s != nil:
			c.Hint = "no PN532 answers: check VCC, GND, SDA, SCL and that the interface-select switches are set for I2C (PN532 I0 high, I1 low); " + others(s)
		default:
			c.Hint = "no PN532 answers on SPI: check VCC, GND, SCK, MOSI, MISO, SS and that the interface-select switches are set for SPI (PN532 I0 low, I1 high)"
		}
		return append(checks, c)
	}
	defer dev.Halt()
	if s != nil {
		s.answered(o.Addr)
		checks[0].Detail = s.Bus + ": " + s.String()
	}
	fw, err := dev.FirmwareVersion()
	if err != nil {
		return append(checks, Check{Name: "firmware version", Status: Suspicious, Detail: fmt.Sprintf("%s: %v", where, err),
			Hint: "the chip answered once, then not: check the wiring for loose contacts"})
	}
	return append(checks, Check{Name: "firmware version", Status: OK,
		Detail: fmt.Sprintf("%s: IC %#02x (PN532), firmware %d.%d, support %#02x", where, fw.IC, fw.Ver, fw.Rev, fw.Support)})
}

// lineVerdict judges the samples of one line at rest: active[i] is whether
// the line read active at sample i.
type lineVerdict func(sc config.SensorConfig, ch string, activeAll, activeAny bool) (Status, string, string)

func (p *prober) lines(sc config.SensorConfig, hw Hardware, chans []string, pull gpio.Pull, activeLow bool, verdict lineVerdict) []Check {
	if len(chans) == 0 {
		return []Check{{Name: "pins", Status: BusError, Detail: "no pins configured"}}
	}
	polarity := "active high"
	if activeLow {
		polarity = "active low"
	}
	var checks []Check
	type line struct {
		ch  string
		pin gpio.PinIn
		n   int // samples that read active
	}
	var ls []line
	for _, ch := range chans {
		name := sc.Pins[ch]
		pin, err := hw.Pin(name)
		if err == nil && pin == nil {
			err = fmt.Errorf("GPIO %q not found (names look like GPIO17)", name)
		}
		if err == nil {
			err = pin.In(pull, gpio.NoEdge)
		}
		if err != nil {
			checks = append(checks, Check{Name: "line " + ch, Status: BusError, Detail: fmt.Sprintf("%s: %v", name, err),
				Hint: "is the GPIO name right, and does the agent's user have access to /dev/gpiochip0 (group gpio)?"})
			continue
		}
		ls = append(ls, line{ch: ch, pin: pin})
	}
	for i := 0; i < p.o.Samples; i++ {
		if i > 0 {
			p.o.Sleep(p.o.SampleEvery)
		}
		for j := range ls {
			if (ls[j].pin.Read() == gpio.Low) == activeLow {
				ls[j].n++
			}
		}
	}
	for _, l := range ls {
		st, detail, hint := verdict(sc, l.ch, l.n == p.o.Samples, l.n > 0)
		lvl := "inactive"
		switch {
		case l.n == p.o.Samples:
			lvl = "active"
		case l.n > 0:
			lvl = fmt.Sprintf("active in %d of %d samples", l.n, p.o.Samples)
		}
		checks = append(checks, Check{Name: "line " + l.ch, Status: st, Hint: hint,
			Detail: fmt.Sprintf("%s (%s, pull %s): %s: %s", sc.Pins[l.ch], polarity, pullName(pull), lvl, detail)})
	}
	// Both beams of a pair blocked at rest is one fault, not two.
	if sensor.Kind(sc.Kind) == sensor.KindBeamPair && len(checks) == 2 && checks[0].Status == Suspicious && checks[1].Status == Suspicious &&
		strings.Contains(checks[0].Detail, ": active:") && strings.Contains(checks[1].Detail, ": active:") {
		flip := "true"
		if activeLow {
			flip = "false"
		}
		checks[1].Hint = ""
		checks[0].Hint = "both beams read blocked with nobody in the doorway: the receivers are unpowered, the emitters off or misaligned, or the receivers' output is the other way round (try active_low: " + flip + ")"
	}
	return checks
}

func beamVerdict(sc config.SensorConfig, ch string, all, any bool) (Status, string, string) {
	switch {
	case all:
		return Suspicious, "beam blocked", fmt.Sprintf("beam %s reads blocked with nobody in the doorway: align its emitter with its receiver, clean the lenses, or clear the doorway", ch)
	case any:
		return Suspicious, "beam flickers", fmt.Sprintf("beam %s changed while sampled: unless someone walked through, the alignment is marginal or the wire picks up noise", ch)
	}
	return OK, "beam clear", ""
}

func pulseVerdict(sc config.SensorConfig, ch string, all, any bool) (Status, string, string) {
	switch {
	case all:
		return Suspicious, "output held active", fmt.Sprintf("line %s is held active at rest: a counter pulses, it does not hold: check the counter's output type and active_low", ch)
	case any:
		return OK, "a pulse came while sampled", ""
	}
	return OK, "idle", ""
}

func pirVerdict(sc config.SensorConfig, ch string, all, any bool) (Status, string, string) {
	switch {
	case all:
		return Suspicious, "motion", "motion reported throughout: if nobody is in front of the shelf, the module is still warming up (about a minute after power-up), its hold time is turned up, or its output is the other way round (active_low)"
	case any:
		return OK, "motion seen", ""
	}
	return OK, "no motion", ""
}

func pullOf(s string, def gpio.Pull) gpio.Pull {
	switch s {
	case "up":
		return gpio.PullUp
	case "down":
		return gpio.PullDown
	case "none":
		return gpio.Float
	}
	return def
}

func pullName(p gpio.Pull) string {
	switch p {
	case gpio.PullUp:
		return "up"
	case gpio.PullDown:
		return "down"
	case gpio.Float:
		return "none"
	}
	return p.String()
}

func activeLowOf(sc config.SensorConfig, def bool) bool {
	if sc.ActiveLow != nil {
		return *sc.ActiveLow
	}
	return def
}
