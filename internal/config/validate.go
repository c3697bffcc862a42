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
	if err := aggregate.CheckRates(specs); err != nil {
		return c.errf("sensors", "%v", err)
	}
	return nil
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
	if s.Simulate != nil {
		return c.validateSim(i)
	}
	switch k {
	case sensor.KindToF2Zone, sensor.KindToFPresence:
		if s.Bus == "" {
			return c.errf(key("bus"), "required for a %s sensor: the I2C bus, e.g. 1 for /dev/i2c-1", k)
		}
		switch s.DistanceMode {
		case "", "short", "long":
		default:
			return c.errf(key("distance_mode"), "%q: want short or long", s.DistanceMode)
		}
		if r := s.ROI; k == sensor.KindToF2Zone && (r.Width != 0 || r.Height != 0) && (r.Width < 4 || r.Width > 16 || r.Height < 4 || r.Height > 16) {
			return c.errf(key("roi"), "width and height must be 4..16 SPADs, got %dx%d", r.Width, r.Height)
		}
	case sensor.KindBeamPair, sensor.KindPulse, sensor.KindPIR:
		if len(s.Pins) == 0 {
			return c.errf(key("pins"), "required for a %s sensor: map its channels (%s) to GPIO names, e.g. a: GPIO5", k, strings.Join(k.Channels(), ", "))
		}
		if k == sensor.KindBeamPair && (s.Pins["a"] == "" || s.Pins["b"] == "") {
			return c.errf(key("pins"), "a beam-pair needs both a (street side) and b (store side)")
		}
	}
	return nil
}

func (c *Config) validateSim(i int) error {
	s := c.Sensors[i].Simulate
	key := func(k string) string { return fmt.Sprintf("sensors[%d].simulate.%s", i, k) }
	if s.PerMinute <= 0 || s.PerMinute > 600 {
		return c.errf(key("per_minute"), "%v: want more than 0 and at most 600 people a minute", s.PerMinute)
	}
	if s.InShare < 0 || s.InShare > 1 {
		return c.errf(key("in_share"), "%v: want a share from 0 to 1", s.InShare)
	}
	if s.MountMM != 0 && (s.MountMM < 1800 || s.MountMM > 4000) {
		return c.errf(key("mount_mm"), "%d: want 1800 to 4000 mm", s.MountMM)
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
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	return f.Close()
}
