package probe

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"github.com/omo-edge/edge-agent/internal/config"
)

func intp(i int) *int { return &i }

// one probes a single real (not simulated) sensor on hw.
func one(t *testing.T, sc config.SensorConfig, hw Hardware) Result {
	t.Helper()
	var slept time.Duration
	rep := Run(&config.Config{Sensors: []config.SensorConfig{sc}}, Options{Host: hw,
		Sleep: func(d time.Duration) { slept += d }})
	if len(rep.Sensors) != 1 {
		t.Fatalf("%d results", len(rep.Sensors))
	}
	return rep.Sensors[0]
}

func check(t *testing.T, r Result, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return Check{}
}

func i2cHW(name string, bus i2c.Bus) *Emulated {
	return &Emulated{Buses: map[string]i2c.Bus{name: bus}}
}

func TestVL53L1X(t *testing.T) {
	sc := config.SensorConfig{ID: "door", Kind: "tof-2zone", Bus: "1"}
	r := one(t, sc, i2cHW("1", vl53l1xtest.NewBus(vl53l1xtest.New(nil))))
	if r.Status != OK || !strings.Contains(check(t, r, "model id").Detail, "0xeacc") ||
		check(t, r, "i2c scan").Detail != "I2C 1: 0x29 answers" {
		t.Fatalf("%+v", r)
	}

	// Another chip answering at 0x29.
	r = one(t, sc, i2cHW("1", vl53l1xtest.NewBus(vl53l1xtest.New(&vl53l1xtest.Options{ModelID: 0xEEAA}))))
	c := check(t, r, "model id")
	if r.Status != WrongDevice || c.Status != WrongDevice || !strings.Contains(c.Detail, "reads 0xeeaa, want 0xeacc") || c.Hint == "" {
		t.Fatalf("wrong model: %+v", r)
	}

	// Nothing on the bus: every address NAKs.
	r = one(t, sc, i2cHW("1", vl53l1xtest.NewBus()))
	c = check(t, r, "i2c scan")
	if r.Status != Missing || !strings.Contains(c.Hint, "no VL53L1X answers at 0x29") ||
		!strings.Contains(c.Hint, "nothing at all answers") {
		t.Fatalf("missing: %+v", r)
	}

	// Configured at 0x30 but, after a power cycle, still at 0x29: fine.
	sc.Address = 0x30
	r = one(t, sc, i2cHW("1", vl53l1xtest.NewBus(vl53l1xtest.New(nil))))
	if r.Status != OK || !strings.Contains(check(t, r, "model id").Detail, "moves it to 0x30") {
		t.Fatalf("power-on address: %+v", r)
	}
}

func TestBusError(t *testing.T) {
	sc := config.SensorConfig{ID: "door", Kind: "tof-2zone", Bus: "7"}
	r := one(t, sc, i2cHW("1", vl53l1xtest.NewBus()))
	c := check(t, r, "bus")
	if r.Status != BusError || !strings.Contains(c.Detail, `no emulated I2C bus "7"`) || !strings.Contains(c.Hint, "raspi-config") {
		t.Fatalf("%+v", r)
	}
	// No host hardware at all (a laptop) still gives an answer per sensor.
	rep := Run(&config.Config{Sensors: []config.SensorConfig{sc}}, Options{})
	if rep.Sensors[0].Status != BusError || rep.OK() {
		t.Fatalf("%+v", rep)
	}
}

// sharpSC is a Sharp sensor on input 2 of an MCP3008 on SPI0.0.
var sharpSC = config.SensorConfig{ID: "shelf", Kind: "tof-presence", ADC: "mcp3008", SPI: "SPI0.0", Channel: intp(2)}

func adcHW(chip *mcp3008test.Chip) *Emulated {
	return &Emulated{Ports: map[string]spi.Port{"SPI0.0": chip}}
}

func TestMCP3008(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  func(int) float64
		status Status
		check  string
		want   string
	}{
		{"wired", func(ch int) float64 { return map[int]float64{2: 0.6, 5: 1.2}[ch] }, OK, "input CH2", "reads 0.60 V"},
		{"all high", func(int) float64 { return 3.3 }, Suspicious, "mcp3008", "every input reads 1023: MISO"},
		{"all zero", func(int) float64 { return 0 }, Suspicious, "mcp3008", "every input reads 0: the MCP3008 has no power"},
		{"sensor off", func(ch int) float64 { return map[int]float64{5: 1.2}[ch] }, Suspicious, "input CH2", "CH2 reads about 0 V"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip := mcp3008test.New(3.3, tc.input)
			r := one(t, sharpSC, adcHW(chip))
			c := check(t, r, tc.check)
			if r.Status != tc.status || !strings.Contains(c.Detail+c.Hint, tc.want) {
				t.Fatalf("%+v", r)
			}
			if s := chip.Stats(); s.Conversions != 8 || s.Single != 8 {
				t.Fatalf("conversions: %+v", s)
			}
		})
	}
}

func TestNTAG(t *testing.T) {
	sc := config.SensorConfig{ID: "plate", Kind: "nfc-plate", NFC: &config.NFCSensorConfig{Bus: "1"}}
	emu := ntagtest.New(&ntagtest.Opts{TwoK: true})
	r := one(t, sc, i2cHW("1", emu))
	if r.Status != OK || !strings.Contains(check(t, r, "capability container").Detail, "E1 10 EA 00") ||
		check(t, r, "i2c scan").Detail != "I2C 1: 0x55 answers" {
		t.Fatalf("%+v", r)
	}
	// Read only: no block or register written.
	if s := emu.Stats(); s.BlockWrites != 0 || emu.Session(0) != ntagtest.New(&ntagtest.Opts{TwoK: true}).Session(0) {
		t.Fatalf("probe wrote to the tag: %+v", s)
	}

	// Configured at 0x56, the tag answers at 0x55.
	sc.NFC.Address = 0x56
	r = one(t, sc, i2cHW("1", ntagtest.New(nil)))
	c := check(t, r, "i2c scan")
	if r.Status != Missing || !strings.Contains(c.Hint, "no NTAG I2C plus answers at 0x56") {
		t.Fatalf("missing: %+v", r)
	}

	// Something else at 0x55: block 0 byte 0 is no 04h.
	sc.NFC.Address = 0
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x55, W: []byte{0x00}, R: []byte{0xAA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
	}, DontPanic: true}
	r = one(t, sc, &Emulated{Buses: map[string]i2c.Bus{"1": &scanless{bus}}})
	if c := check(t, r, "manufacturer"); r.Status != WrongDevice || !strings.Contains(c.Detail, "reads AAh, want 04h") {
		t.Fatalf("wrong device: %+v", r)
	}
}

// scanless answers no bare one-byte read (the scan) and passes the rest on.
type scanless struct{ i2c.Bus }

func (s *scanless) Tx(addr uint16, w, r []byte) error {
	if len(w) == 0 {
		return errors.New("NAK")
	}
	return s.Bus.Tx(addr, w, r)
}

func TestPN532(t *testing.T) {
	sc := config.SensorConfig{ID: "reader", Kind: "nfc-reader", NFC: &config.NFCSensorConfig{Bus: "1"}}
	r := one(t, sc, i2cHW("1", pn532test.New(nil).I2C()))
	if c := check(t, r, "firmware version"); r.Status != OK || !strings.Contains(c.Detail, "IC 0x32 (PN532), firmware 1.6") {
		t.Fatalf("%+v", r)
	}
	r = one(t, sc, i2cHW("1", pn532test.New(&pn532test.Options{Firmware: [4]byte{0x31, 1, 4, 7}}).I2C()))
	if c := check(t, r, "firmware version"); r.Status != WrongDevice || !strings.Contains(c.Detail, "IC 0x31") {
		t.Fatalf("wrong IC: %+v", r)
	}
	r = one(t, sc, i2cHW("1", vl53l1xtest.NewBus()))
	if c := check(t, r, "firmware version"); r.Status != Missing || !strings.Contains(c.Hint, "set for I2C (PN532 I0 high, I1 low)") {
		t.Fatalf("missing: %+v", r)
	}
	// On SPI.
	sc.NFC = &config.NFCSensorConfig{SPI: "SPI0.1"}
	r = one(t, sc, &Emulated{Ports: map[string]spi.Port{"SPI0.1": pn532test.New(nil).SPI()}})
	if r.Status != OK {
		t.Fatalf("spi: %+v", r)
	}
}

func pinsHW(pins ...*pintest.Pin) *Emulated {
	e := &Emulated{Pins: map[string]gpio.PinIn{}}
	for _, p := range pins {
		e.Pins[p.Name()] = p
	}
	return e
}

func TestBeams(t *testing.T) {
	sc := config.SensorConfig{ID: "street", Kind: "beam-pair", Pins: map[string]string{"a": "GPIO5", "b": "GPIO6"}}
	a, b := pintest.New("GPIO5", 5), pintest.New("GPIO6", 6)
	// Undriven open-collector outputs: the pull-up makes them read clear.
	r := one(t, sc, pinsHW(a, b))
	if r.Status != OK || a.Pull() != gpio.PullUp || !strings.Contains(check(t, r, "line a").Detail, "GPIO5 (active low, pull up): inactive: beam clear") {
		t.Fatalf("%+v", r)
	}
	// Receiver b pulls low: its beam is broken at rest.
	b.Set(gpio.Low)
	r = one(t, sc, pinsHW(a, b))
	if c := check(t, r, "line b"); r.Status != Suspicious || check(t, r, "line a").Status != OK || !strings.Contains(c.Hint, "beam b reads blocked") {
		t.Fatalf("one blocked: %+v", r)
	}
	// Both low: one fault (misaligned, unpowered or the wrong polarity).
	a.Set(gpio.Low)
	r = one(t, sc, pinsHW(a, b))
	if c := check(t, r, "line a"); r.Status != Suspicious || !strings.Contains(c.Hint, "both beams read blocked") ||
		!strings.Contains(c.Hint, "try active_low: false") || check(t, r, "line b").Hint != "" {
		t.Fatalf("both blocked: %+v", r)
	}
}

// togglingPin changes level at every read: a flickering beam.
type togglingPin struct {
	*pintest.Pin
	n int
}

func (p *togglingPin) Read() gpio.Level { p.n++; return gpio.Level(p.n%2 == 0) }

func TestLinesSampled(t *testing.T) {
	sc := config.SensorConfig{ID: "street", Kind: "beam-pair", Pins: map[string]string{"a": "GPIO5", "b": "GPIO6"}}
	a := &togglingPin{Pin: pintest.New("GPIO5", 5)}
	hw := pinsHW(pintest.New("GPIO6", 6))
	hw.Pins["GPIO5"] = a
	var sleeps []time.Duration
	rep := Run(&config.Config{Sensors: []config.SensorConfig{sc}}, Options{Host: hw, Samples: 4, SampleEvery: 30 * time.Millisecond,
		Sleep: func(d time.Duration) { sleeps = append(sleeps, d) }})
	r := rep.Sensors[0]
	if c := check(t, r, "line a"); c.Status != Suspicious || !strings.Contains(c.Detail, "active in 2 of 4 samples") || a.n != 4 {
		t.Fatalf("%+v (reads %d)", r, a.n)
	}
	if len(sleeps) != 3 || sleeps[0] != 30*time.Millisecond {
		t.Fatalf("sleeps %v", sleeps)
	}
}

func TestPIRAndPulse(t *testing.T) {
	pirSC := config.SensorConfig{ID: "mag", Kind: "pir", Pins: map[string]string{"motion": "GPIO22"}}
	p := pintest.New("GPIO22", 22)
	if r := one(t, pirSC, pinsHW(p)); r.Status != OK || p.Pull() != gpio.PullDown {
		t.Fatalf("%+v", r)
	}
	p.Set(gpio.High)
	if r := one(t, pirSC, pinsHW(p)); r.Status != Suspicious || !strings.Contains(check(t, r, "line motion").Hint, "warming up") {
		t.Fatalf("stuck motion: %+v", r)
	}
	pulseSC := config.SensorConfig{ID: "side", Kind: "pulse", Pins: map[string]string{"in": "GPIO23"}}
	in := pintest.New("GPIO23", 23)
	in.Set(gpio.Low)
	r := one(t, pulseSC, pinsHW(in))
	if len(r.Checks) != 1 || r.Status != Suspicious || !strings.Contains(check(t, r, "line in").Hint, "held active") {
		t.Fatalf("held pulse line: %+v", r)
	}
	// A GPIO that does not exist.
	r = one(t, pulseSC, pinsHW())
	if r.Status != BusError || !strings.Contains(check(t, r, "line in").Detail, `no emulated GPIO "GPIO23"`) {
		t.Fatalf("no pin: %+v", r)
	}
}

func TestSharedBusScannedOnce(t *testing.T) {
	bus := vl53l1xtest.NewBus(vl53l1xtest.New(nil))
	nt := ntagtest.New(nil)
	two := &twoBus{tof: bus, ntag: nt}
	cfg := &config.Config{Sensors: []config.SensorConfig{
		{ID: "door", Kind: "tof-2zone", Bus: "1"},
		{ID: "plate", Kind: "nfc-plate", NFC: &config.NFCSensorConfig{Bus: "1"}},
	}}
	rep := Run(cfg, Options{Host: i2cHW("1", two)})
	if !rep.OK() || len(rep.Scans) != 1 || len(rep.Scans[0].Acked) != 2 || rep.Scans[0].Acked[0] != 0x29 || rep.Scans[0].Acked[1] != 0x55 {
		t.Fatalf("%+v", rep)
	}
	if two.scans != 112 {
		t.Fatalf("scanned %d addresses, want one scan of 0x08..0x77 (112)", two.scans)
	}
}

// twoBus puts a VL53L1X and an NTAG on one bus.
type twoBus struct {
	tof   i2c.Bus
	ntag  *ntagtest.Emulator
	scans int
}

func (b *twoBus) String() string { return "two" }
func (b *twoBus) SetSpeed(physic.Frequency) error {
	return nil
}
func (b *twoBus) Tx(a uint16, w, r []byte) error {
	if len(w) == 0 && len(r) == 1 {
		b.scans++
	}
	if a == b.ntag.Addr() {
		return b.ntag.Tx(a, w, r)
	}
	return b.tof.Tx(a, w, r)
}

func TestRecorder(t *testing.T) {
	rec := &Recorder{}
	cfg := &config.Config{Sensors: []config.SensorConfig{
		{ID: "door", Kind: "tof-2zone", Bus: "1"},
		sharpSC,
	}}
	hw := i2cHW("1", vl53l1xtest.NewBus(vl53l1xtest.New(nil)))
	hw.Ports = map[string]spi.Port{"SPI0.0": mcp3008test.New(3.3, func(ch int) float64 { return 1.65 })}
	rep := Run(cfg, Options{Host: hw, Record: rec})
	if !rep.OK() {
		t.Fatalf("%+v", rep)
	}
	var b bytes.Buffer
	if _, err := rec.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"== I2C 1\n0x29 R 00\n0x29 W 01 0f R ea cc\n",
		// Single-ended CH0: start bit, SGL|D2..D0 = 1000, then 10 bits of 512 (1.65 V of 3.3 V).
		"== SPI SPI0.0\nW 01 80 00 R 00 02 00\n",
		"W 01 f0 00 R 00 02 00\n",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("record lacks %q:\n%s", want, got)
		}
	}
}

func TestEmulateDemoKinds(t *testing.T) {
	f := 2.0
	cfg := &config.Config{Sensors: []config.SensorConfig{
		{ID: "door", Kind: "tof-2zone", Bus: "sim", Simulate: &config.SimConfig{}},
		{ID: "street", Kind: "beam-pair", Pins: map[string]string{"a": "A", "b": "B"}, Simulate: &config.SimConfig{}},
		{ID: "side", Kind: "pulse", Pins: map[string]string{"in": "I", "out": "O"}, Simulate: &config.SimConfig{}},
		{ID: "snacks", Kind: "tof-presence", Bus: "sim", Simulate: &config.SimConfig{}},
		{ID: "drinks", Kind: "tof-presence", ADC: "mcp3008", SPI: "S", Channel: intp(0), Sharp: "gp2y0a02yk0f", Simulate: &config.SimConfig{AisleMM: 1800}},
		{ID: "mags", Kind: "pir", Pins: map[string]string{"motion": "M"}, Simulate: &config.SimConfig{PassersPerMinute: &f}},
		{ID: "plate", Kind: "nfc-plate", Simulate: &config.SimConfig{}},
		{ID: "reader", Kind: "nfc-reader", Simulate: &config.SimConfig{}},
	}}
	rep := Run(cfg, Options{Sleep: func(time.Duration) {}})
	for _, r := range rep.Sensors {
		if r.Status != OK || !r.Simulated {
			t.Errorf("%s: %+v", r.Sensor, r)
		}
	}
	// A wrong emulator config is a clear error, not a panic.
	bad := &config.Config{Sensors: []config.SensorConfig{{ID: "x", Kind: "tof-presence", ADC: "mcp3008", Sharp: "nope", Simulate: &config.SimConfig{}}}}
	rep = Run(bad, Options{})
	if r := rep.Sensors[0]; r.Status != BusError || !strings.Contains(r.Checks[0].Detail, `sharp "nope"`) {
		t.Fatalf("%+v", r)
	}
}

// outPin makes an emulator's XSHUT input a line Hardware.Pin can return.
type outPin struct{ gpio.PinOut }

func (outPin) In(gpio.Pull, gpio.Edge) error  { return nil }
func (outPin) Read() gpio.Level               { return gpio.Low }
func (outPin) WaitForEdge(time.Duration) bool { return false }
func (outPin) Pull() gpio.Pull                { return gpio.Float }
func (outPin) DefaultPull() gpio.Pull         { return gpio.Float }

func TestVL53L1XAloneWithXShut(t *testing.T) {
	// Two sensors on one bus, both left off by the daemon (XSHUT low):
	// each is powered alone, so each answers for itself at 0x29.
	good := vl53l1xtest.New(&vl53l1xtest.Options{Name: "good"})
	other := vl53l1xtest.New(&vl53l1xtest.Options{Name: "other", ModelID: 0xEEAA})
	hw := i2cHW("1", vl53l1xtest.NewBus(good, other))
	hw.Pins = map[string]gpio.PinIn{"GPIO17": outPin{good.XShut()}, "GPIO27": outPin{other.XShut()}}
	for _, p := range hw.Pins {
		p.(gpio.PinOut).Out(gpio.Low)
	}
	cfg := &config.Config{Sensors: []config.SensorConfig{
		{ID: "door", Kind: "tof-2zone", Bus: "1", Address: 0x30, XShut: "GPIO17"},
		{ID: "shelf", Kind: "tof-presence", Bus: "1", Address: 0x31, XShut: "GPIO27"},
	}}
	rep := Run(cfg, Options{Host: hw}) // real sleeps: the emulators boot in real time
	door, shelf := rep.Sensors[0], rep.Sensors[1]
	if door.Status != OK || !strings.Contains(check(t, door, "model id").Detail, "powered alone on the bus with XSHUT GPIO17") {
		t.Fatalf("door: %+v", door)
	}
	if shelf.Status != WrongDevice || !strings.Contains(check(t, shelf, "model id").Detail, "reads 0xeeaa") {
		t.Fatalf("shelf: %+v", shelf)
	}
	// Left as the daemon left them: off.
	var b [2]byte
	if err := vl53l1xtest.NewBus(good, other).Tx(0x29, []byte{0x01, 0x0F}, b[:]); err == nil {
		t.Fatalf("a sensor was left powered: reads % x", b)
	}
	// Without XSHUT handling both would be off: missing, and the hint says
	// which wire the probe drove.
	hw.Pins["GPIO17"] = outPin{vl53l1xtest.New(nil).XShut()} // wired to another board
	rep = Run(&config.Config{Sensors: cfg.Sensors[:1]}, Options{Host: hw})
	if c := check(t, rep.Sensors[0], "i2c scan"); rep.Sensors[0].Status != Missing || !strings.Contains(c.Hint, "XSHUT wire (GPIO17") {
		t.Fatalf("%+v", rep.Sensors[0])
	}
	// An XSHUT line that cannot be driven is named.
	hw.Pins["GPIO17"] = pintest.New("GPIO17", 17)
	rep = Run(&config.Config{Sensors: cfg.Sensors[:1]}, Options{Host: hw})
	if c := check(t, rep.Sensors[0], "xshut"); rep.Sensors[0].Status != BusError || !strings.Contains(c.Detail, "XSHUT GPIO17 cannot be driven") {
		t.Fatalf("%+v", rep.Sensors[0])
	}
}
