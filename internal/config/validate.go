package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

func slicesSort(s []string) { slices.Sort(s) }

// Validate checks every value, in file order, and returns the first problem.
// It touches no hardware and no network, so `config validate` can run on a
// laptop; files named by the config (certificates, password) are checked to
// be readable.
func (c *Config) Validate() error {
	if c.StoreID == "" {
		return c.errf("store_id", "required: the store's id, e.g. shibuya-01")
	}
	if err := sensor.ValidID(c.StoreID); err != nil {
		return c.errf("store_id", "%v", err)
	}
	if err := sensor.ValidID(c.AgentID); err != nil {
		return c.errf("agent_id", "%v (it defaults to the host name)", err)
	}
	if c.StateDir == "" {
		return c.errf("state_dir", "required: where the outbox and calibration live, e.g. /var/lib/edge-agent")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c.errf("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if _, err := c.Location(); err != nil {
		return err
	}
	if _, err := aggregate.New(nil, aggregate.Options{Window: c.Window, ClosingTime: c.ClosingTime}); err != nil {
		key := "window"
		if strings.HasPrefix(err.Error(), "closing_time") {
			key = "closing_time"
		}
		return c.errf(key, "%v", err)
	}
	if c.Clock.StepTolerance < 100*time.Millisecond {
		return c.errf("clock.step_tolerance", "%v is too small: at least 100ms", c.Clock.StepTolerance)
	}
	if err := c.validateMQTT(); err != nil {
		return err
	}
	if err := c.validateNFC(); err != nil {
		return err
	}
	bo := c.Buffer.Options()
	if err := bo.Validate(); err != nil {
		return c.errf("buffer", "%v", err)
	}
	if len(c.Sensors) == 0 {
		return c.errf("sensors", "no sensors configured: add at least one (see configs/store.example.yaml)")
	}
	seen := map[string]int{}
	for i := range c.Sensors {
		if j, dup := seen[c.Sensors[i].ID]; dup {
			return c.errf(fmt.Sprintf("sensors[%d].id", i), "%q is already the id of sensors[%d]", c.Sensors[i].ID, j)
		}
		seen[c.Sensors[i].ID] = i
		if err := c.validateSensor(i); err != nil {
			return err
		}
	}
	specs, err := c.Specs()
	if err != nil {
		return err
	}
	for i, sp := range specs {
		if _, err := detect.New(sp, i); err != nil {
			return c.errf(fmt.Sprintf("sensors[%d].params", i), "%v", err)
		}
	}
	if err := c.checkPlateShelves(specs); err != nil {
		return err
	}
	if err := aggregate.CheckRates(specs); err != nil {
		return c.errf("sensors", "%v", err)
	}
	return c.validateProfile(specs)
}

func (c *Config) validateMQTT() error {
	m := &c.MQTT
	if m.StoreID != "" && m.StoreID != c.StoreID || m.AgentID != "" && m.AgentID != c.AgentID {
		return c.errf("mqtt", "store_id and agent_id belong at the top level of the config, not under mqtt")
	}
	m.StoreID, m.AgentID = c.StoreID, c.AgentID
	if m.Broker == "" {
		return c.errf("mqtt.broker", "required: the broker URL, e.g. tls://broker.example.com:8883 (the demo starts its own)")
	}
	if err := m.Validate(); err != nil {
		return c.errf("mqtt."+leadingField(err.Error()), "%v", err)
	}
	for _, f := range []struct{ key, path string }{
		{"mqtt.password_file", m.PasswordFile},
		{"mqtt.tls.ca_file", m.TLS.CAFile},
		{"mqtt.tls.cert_file", m.TLS.CertFile},
		{"mqtt.tls.key_file", m.TLS.KeyFile},
	} {
		if f.path == "" {
			continue
		}
		if err := readable(f.path); err != nil {
			return c.errf(f.key, "%v", err)
		}
	}
	return nil
}

// leadingField picks "keep_alive" out of "keep_alive: must be > 0".
func leadingField(msg string) string {
	f, _, ok := strings.Cut(msg, ":")
	if !ok || strings.ContainsAny(f, " \t") {
		return ""
	}
	return f
}

func (c *Config) validateSensor(i int) error {
	s := &c.Sensors[i]
	key := func(k string) string { return fmt.Sprintf("sensors[%d].%s", i, k) }
	if err := sensor.ValidID(s.ID); err != nil {
		return c.errf(key("id"), "%v", err)
	}
	k := sensor.Kind(s.Kind)
	if !k.Known() {
		return c.errf(key("kind"), "%q is not a sensor kind (known: %s)", s.Kind, kindList())
	}
	if !sensor.Role(s.Role).Known() {
		return c.errf(key("role"), "%q is not a role (known: entrance, passerby, shelf, plate, checkin)", s.Role)
	}
	for ch := range s.Pins {
		if k.Channel(ch) < 0 {
			return c.errf(key("pins."+ch), "a %s sensor has no channel %q (its channels: %s)", k, ch, strings.Join(k.Channels(), ", "))
		}
	}
	switch s.Pull {
	case "", "up", "down", "none":
	default:
		return c.errf(key("pull"), "%q: want up, down or none", s.Pull)
	}
	if s.Debounce < 0 || s.Debounce > time.Second {
		return c.errf(key("debounce"), "%v: want 0 to 1s", s.Debounce)
	}
	if s.MinPulse < 0 || s.MinPulse > 10*time.Second {
		return c.errf(key("min_pulse"), "%v: want 0 to 10s", s.MinPulse)
	}
	if err := c.validateRanging(i); err != nil {
		return err
	}
	if err := c.validateNFCSensor(i); err != nil {
		return err
	}
	if s.Simulate != nil {
		return c.validateSim(i)
	}
	switch k {
	case sensor.KindToF2Zone, sensor.KindToFPresence:
		if s.ADC != "" {
			if s.SPI == "" {
				return c.errf(key("spi"), "required with adc: %s: the SPI port it is on, e.g. /dev/spidev0.0 (CE0) or SPI0.1 (CE1)", s.ADC)
			}
			break
		}
		if s.Bus == "" {
			return c.errf(key("bus"), "required for a %s sensor: the I2C bus, e.g. 1 for /dev/i2c-1", k)
		}
	case sensor.KindBeamPair, sensor.KindPulse, sensor.KindPIR:
		if len(s.Pins) == 0 {
			return c.errf(key("pins"), "required for a %s sensor: map its channels (%s) to GPIO names, e.g. %s: GPIO5", k, strings.Join(k.Channels(), ", "), k.Channels()[0])
		}
		if k == sensor.KindBeamPair && (s.Pins["a"] == "" || s.Pins["b"] == "") {
			return c.errf(key("pins"), "a beam-pair needs both a (street side) and b (store side)")
		}
		if k == sensor.KindPIR && s.Pins["motion"] == "" {
			return c.errf(key("pins"), "a pir sensor needs motion: the GPIO its output is wired to, e.g. motion: GPIO23")
		}
	}
	return nil
}

// Sharp models a tof-presence sensor on an ADC may be; the first is the default.
var sharpModels = []string{"gp2y0a21yk0f", "gp2y0a02yk0f"}

// vl53l1xBudgets are the timing budgets the VL53L1X supports (15 ms in
// short mode only).
var vl53l1xBudgets = []time.Duration{15, 20, 33, 50, 100, 200, 500}

// validateRanging checks how a distance sensor ranges: a VL53L1X's mode,
// budget and region of interest, or a Sharp sensor on an MCP3008 input.
// Simulated sensors use the same keys (they run the same drivers), so
// these are checked for them too.
func (c *Config) validateRanging(i int) error {
	s := &c.Sensors[i]
	key := func(k string) string { return fmt.Sprintf("sensors[%d].%s", i, k) }
	k := sensor.Kind(s.Kind)
	vl, presence := k == sensor.KindToF2Zone, k == sensor.KindToFPresence
	if presence && s.ADC == "" {
		vl = true
	}
	onlyPresence := []struct {
		name string
		set  bool
	}{{"adc", s.ADC != ""}, {"spi", s.SPI != ""}, {"channel", s.Channel != nil}, {"sharp", s.Sharp != ""},
		{"vref", s.Vref != 0}, {"sample_every", s.SampleEvery != 0}}
	for _, f := range onlyPresence {
		switch {
		case !f.set:
		case !presence:
			return c.errf(key(f.name), "only a tof-presence sensor has %s (this one is %s)", f.name, k)
		case s.ADC == "" && f.name != "sample_every":
			return c.errf(key(f.name), "%s belongs to a Sharp sensor on an ADC: add adc: mcp3008 (or remove %s for a VL53L1X on bus)", f.name, f.name)
		}
	}
	if !vl {
		for _, f := range []struct {
			name string
			set  bool
		}{{"bus", s.Bus != ""}, {"address", s.Address != 0}, {"xshut", s.XShut != ""}, {"interrupt", s.Interrupt != ""},
			{"distance_mode", s.DistanceMode != ""}, {"timing_budget", s.TimingBudget != 0}, {"roi", s.ROI != (ROIConfig{})}} {
			if f.set && presence {
				return c.errf(key(f.name), "%s is a VL53L1X setting; this sensor is a Sharp on adc: %s", f.name, s.ADC)
			}
		}
	}
	if vl {
		switch s.DistanceMode {
		case "", "short", "long":
		default:
			return c.errf(key("distance_mode"), "%q: want short or long", s.DistanceMode)
		}
		if b := s.TimingBudget; b != 0 {
			ok := false
			for _, v := range vl53l1xBudgets {
				ok = ok || b == v*time.Millisecond && (v != 15 || s.DistanceMode == "short")
			}
			if !ok {
				return c.errf(key("timing_budget"), "%v: the VL53L1X supports 20ms, 33ms, 50ms, 100ms, 200ms or 500ms (15ms in short mode)", b)
			}
		}
		if r := s.ROI; (r.Width != 0 || r.Height != 0) && (r.Width < 4 || r.Width > 16 || r.Height < 4 || r.Height > 16) {
			return c.errf(key("roi"), "width and height must be 4..16 SPADs, got %dx%d", r.Width, r.Height)
		}
		if r := s.ROI; presence && (r.Z0Center != 0 || r.Z1Center != 0) {
			return c.errf(key("roi"), "a tof-presence sensor ranges one zone: give its center (SPAD number, 199 = optical centre), not z0_center/z1_center")
		}
		if r := s.ROI; !presence && r.Center != 0 {
			return c.errf(key("roi.center"), "a tof-2zone sensor ranges two zones: give z0_center and z1_center")
		}
	}
	if !presence {
		return nil
	}
	if s.ADC != "" {
		if s.ADC != "mcp3008" {
			return c.errf(key("adc"), "%q: the supported ADC is mcp3008 (leave adc out for a VL53L1X on bus)", s.ADC)
		}
		if s.Channel == nil {
			return c.errf(key("channel"), "required with adc: mcp3008: the input the Sharp sensor's output is wired to, 0..7")
		}
		if ch := *s.Channel; ch < 0 || ch > 7 {
			return c.errf(key("channel"), "%d is out of range: the MCP3008 has inputs 0..7", ch)
		}
		if s.Sharp != "" && !slices.Contains(sharpModels, strings.ToLower(s.Sharp)) {
			return c.errf(key("sharp"), "%q is not a supported Sharp model: want gp2y0a21yk0f (10-80 cm) or gp2y0a02yk0f (20-150 cm)", s.Sharp)
		}
		if s.Vref != 0 && !(s.Vref >= 1 && s.Vref <= 5.5) {
			return c.errf(key("vref"), "%v V: want the MCP3008's VREF, 1 to 5.5 V (usually 3.3)", s.Vref)
		}
		if e := s.SampleEvery; e != 0 && (e < 10*time.Millisecond || e > time.Second) {
			return c.errf(key("sample_every"), "%v: want 10ms to 1s (the Sharp sensor updates every ~38ms)", e)
		}
		return nil
	}
	if e := s.SampleEvery; e != 0 {
		budget := s.TimingBudget
		if budget == 0 {
			budget = DefaultPresenceBudget
		}
		if e < budget || e > 10*time.Second {
			return c.errf(key("sample_every"), "%v: want from the timing budget (%v) to 10s", e, budget)
		}
	}
	return nil
}

// DefaultPresenceBudget is a tof-presence VL53L1X's timing budget when the
// config gives none, and DefaultPresenceEvery its measurement period.
const (
	DefaultPresenceBudget = 50 * time.Millisecond
	DefaultPresenceEvery  = 100 * time.Millisecond
	DefaultSharpEvery     = 50 * time.Millisecond
)

// checkPlateShelves names the key when a plate's shelf is not a shelf.
func (c *Config) checkPlateShelves(specs []sensor.Spec) error {
	byID := map[string]sensor.Spec{}
	var shelves []string
	for _, sp := range specs {
		byID[sp.ID] = sp
		if sp.Role == sensor.RoleShelf {
			shelves = append(shelves, sp.ID)
		}
	}
	for i, sp := range specs {
		if sp.Role != sensor.RolePlate || sp.Shelf == "" {
			continue
		}
		key := fmt.Sprintf("sensors[%d].params.shelf", i)
		sh, ok := byID[sp.Shelf]
		switch {
		case !ok && len(shelves) == 0:
			return c.errf(key, "%q: no sensor has that id, and no shelf sensor is configured (a plate's taps are rated against its shelf's stop-bys)", sp.Shelf)
		case !ok:
			return c.errf(key, "%q: no sensor has that id (shelves: %s)", sp.Shelf, strings.Join(shelves, ", "))
		case sh.Role != sensor.RoleShelf:
			return c.errf(key, "%q is a %s sensor, not a shelf", sp.Shelf, sh.Role)
		}
	}
	return nil
}

func (c *Config) validateSim(i int) error {
	s := c.Sensors[i].Simulate
	key := func(k string) string { return fmt.Sprintf("sensors[%d].simulate.%s", i, k) }
	if c.Sensors[i].Role == string(sensor.RoleShelf) {
		if s.Scenario != "" {
			return c.errf(key("scenario"), "only a simulated door or storefront line has a doorway scenario")
		}
		return c.validateSimShelf(i)
	}
	if s.PerMinute <= 0 || s.PerMinute > 600 {
		return c.errf(key("per_minute"), "%v: want more than 0 and at most 600 people a minute", s.PerMinute)
	}
	if s.PassersPerMinute != nil {
		return c.errf(key("passers_per_minute"), "only a simulated shelf has passers_per_minute (aisle passers-by); a %s line's people are per_minute", c.Sensors[i].Role)
	}
	if s.AisleMM != 0 {
		return c.errf(key("aisle_mm"), "only a simulated shelf has aisle_mm")
	}
	if s.InShare < 0 || s.InShare > 1 {
		return c.errf(key("in_share"), "%v: want a share from 0 to 1", s.InShare)
	}
	if s.MountMM != 0 && (s.MountMM < 1800 || s.MountMM > 4000) {
		return c.errf(key("mount_mm"), "%d: want 1800 to 4000 mm", s.MountMM)
	}
	if s.Scenario != "" && !slices.Contains(sim.ScenarioNames(), s.Scenario) {
		return c.errf(key("scenario"), "%q: no such doorway scenario (known: %s)", s.Scenario, strings.Join(sim.ScenarioNames(), ", "))
	}
	return nil
}

// validateSimShelf checks the simulated aisle in front of a shelf.
func (c *Config) validateSimShelf(i int) error {
	s := c.Sensors[i].Simulate
	key := func(k string) string { return fmt.Sprintf("sensors[%d].simulate.%s", i, k) }
	if !(s.PerMinute > 0 && s.PerMinute <= 60) {
		return c.errf(key("per_minute"), "%v: want more than 0 and at most 60 shoppers a minute coming to browse the shelf", s.PerMinute)
	}
	if p := s.PassersPerMinute; p != nil && !(*p >= 0 && *p <= 120) {
		return c.errf(key("passers_per_minute"), "%v: want 0 to 120 people a minute walking past in the aisle", *p)
	}
	if s.AisleMM != 0 && (s.AisleMM < 1000 || s.AisleMM > 10000) {
		return c.errf(key("aisle_mm"), "%d: want 1000 to 10000 mm from the sensor to the far side of the aisle", s.AisleMM)
	}
	if s.InShare != 0 {
		return c.errf(key("in_share"), "a shelf has no direction: in_share is for doors")
	}
	if s.MountMM != 0 {
		return c.errf(key("mount_mm"), "a shelf sensor looks across the aisle, not down: use aisle_mm")
	}
	return nil
}

func kindList() string {
	var ks []string
	for _, k := range sensor.Kinds() {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

// readable checks that a file named by the config can be opened now, so a
// typo is reported at start and not at the first reconnect.
func readable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		// Opening a FIFO would block until someone writes to it.
		return fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	return f.Close()
}
