// Package config loads and validates the agent's YAML configuration. Every
// error names the file, the line and the key, and says what would be right.
// Defaults are filled in one place, Default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/sensor"
	mqttsync "github.com/omo-edge/edge-agent/internal/sync"
)

// Config is the whole agent configuration.
type Config struct {
	StoreID      string          `yaml:"store_id"`
	AgentID      string          `yaml:"agent_id"`
	StateDir     string          `yaml:"state_dir"`
	StatusSocket string          `yaml:"status_socket"`
	LogLevel     string          `yaml:"log_level"`
	Window       time.Duration   `yaml:"window"`
	ClosingTime  string          `yaml:"closing_time"`
	Timezone     string          `yaml:"timezone"`
	Clock        ClockConfig     `yaml:"clock"`
	MQTT         mqttsync.Config `yaml:"mqtt"`
	NFC          NFCStoreConfig  `yaml:"nfc"`
	Buffer       BufferConfig    `yaml:"buffer"`
	Sensors      []SensorConfig  `yaml:"sensors"`

	// File is where the config came from; lines maps dotted keys to lines.
	File  string         `yaml:"-"`
	lines map[string]int `yaml:"-"`
}

// ClockConfig says when the system clock can be trusted for wall-clock windows.
type ClockConfig struct {
	// RequireSync holds windows back until the kernel says the clock is
	// synchronized (NTP, chrony, systemd-timesyncd): a Pi has no RTC.
	RequireSync bool `yaml:"require_sync"`
	// StepTolerance is how far the wall clock may move against the
	// monotonic clock before the agent re-anchors its windows.
	StepTolerance time.Duration `yaml:"step_tolerance"`
}

// BufferConfig is the outbox section.
type BufferConfig struct {
	MaxBytes      ByteSize      `yaml:"max_bytes"`
	FlushInterval time.Duration `yaml:"flush_interval"`
	FlushRecords  int           `yaml:"flush_records"`
}

// Options maps the section onto the outbox's options.
func (b BufferConfig) Options() buffer.Options {
	o := buffer.DefaultOptions()
	o.MaxBytes, o.FlushInterval, o.FlushRecords = int64(b.MaxBytes), b.FlushInterval, b.FlushRecords
	return o
}

// SensorConfig is one entry of sensors:.
type SensorConfig struct {
	ID   string `yaml:"id"`
	Kind string `yaml:"kind"`
	Role string `yaml:"role"`
	// Params are the trace-v1 key=value keys: role keys (dwell_min_ms,
	// counts_entrants, shelf, repeat_ms) and the kind's detection keys.
	Params map[string]string `yaml:"params"`

	// Hardware. Bus is an I2C bus ("1" or "/dev/i2c-1") or an SPI port.
	Bus       string `yaml:"bus"`
	Address   uint16 `yaml:"address"`
	XShut     string `yaml:"xshut"`
	Interrupt string `yaml:"interrupt"`
	// Pins maps the kind's channels to GPIO names (a/b, in/out/pass, motion, field).
	Pins      map[string]string `yaml:"pins"`
	Pull      string            `yaml:"pull"`       // up, down, none
	ActiveLow *bool             `yaml:"active_low"` // default depends on the kind
	Debounce  time.Duration     `yaml:"debounce"`
	MinPulse  time.Duration     `yaml:"min_pulse"`
	// VL53L1X ranging.
	DistanceMode string        `yaml:"distance_mode"` // short, long
	TimingBudget time.Duration `yaml:"timing_budget"`
	ROI          ROIConfig     `yaml:"roi"`

	// A tof-presence sensor read through an ADC instead of a VL53L1X: a
	// Sharp GP2Y0A analog distance sensor on one MCP3008 input.
	ADC     string  `yaml:"adc"`     // mcp3008; empty: a VL53L1X on bus
	SPI     string  `yaml:"spi"`     // the MCP3008's SPI port: /dev/spidev0.0, SPI0.1
	Channel *int    `yaml:"channel"` // the MCP3008 input the sensor is wired to, 0..7
	Sharp   string  `yaml:"sharp"`   // gp2y0a21yk0f (10-80 cm, default), gp2y0a02yk0f (20-150 cm)
	Vref    float64 `yaml:"vref"`    // volts on the MCP3008's VREF pin (default 3.3)
	// SampleEvery is one tof-presence reading every this long: the VL53L1X's
	// inter-measurement period (default 100ms), or how often the Sharp
	// sensor's output is converted (default 50ms; it updates every ~38 ms).
	SampleEvery time.Duration `yaml:"sample_every"`

	// NFC holds the keys of smart plates and check-in readers.
	NFC *NFCSensorConfig `yaml:"nfc"`

	// Simulate replaces the hardware with an emulated chip fed by a
	// simulated crowd (the demo, tests, a technician's dry run).
	Simulate *SimConfig `yaml:"simulate"`
}

// ROIConfig is the VL53L1X region of interest: the pair of zones of a
// two-zone door (z0_center, z1_center), or the one zone of a tof-presence
// sensor (center; default the whole 16x16 array centred on SPAD 199).
type ROIConfig struct {
	Width    int   `yaml:"width"`
	Height   int   `yaml:"height"`
	Z0Center uint8 `yaml:"z0_center"`
	Z1Center uint8 `yaml:"z1_center"`
	Center   uint8 `yaml:"center"`
}

// SimConfig describes the simulated crowd a sensor sees.
type SimConfig struct {
	Seed int64 `yaml:"seed"`
	// PerMinute is the people reaching the sensed line per minute; for a
	// shelf, the shoppers who come to browse it per minute (while it is free).
	PerMinute float64 `yaml:"per_minute"`
	// Mix of behaviours for a door: share who walk in (the rest walk out).
	InShare float64 `yaml:"in_share"`
	// MountMM is the ceiling height of a simulated ToF sensor.
	MountMM int `yaml:"mount_mm"`
	// Scenario names a simulator doorway scenario (internal/sim, e.g.
	// "doorway": gaps inside bodies, hands ahead, tailgaters, pairs) whose
	// people and sensor physics the crowd follows; the keys above still
	// set its rate, share and mount. Empty: the default doorway.
	Scenario string `yaml:"scenario"`
	// PassersPerMinute is, for a shelf, the people who only walk past in
	// the aisle per minute (default 2).
	PassersPerMinute *float64 `yaml:"passers_per_minute"`
	// AisleMM is, for a shelf, the distance from the sensor to the far side
	// of the aisle (default 1800).
	AisleMM int `yaml:"aisle_mm"`
}

// ByteSize is a size in bytes written as 65536, 64KiB, 64MiB or 1GiB.
type ByteSize int64

// UnmarshalText parses a size with an optional binary unit.
func (b *ByteSize) UnmarshalText(t []byte) error {
	s := strings.TrimSpace(string(t))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a size such as 65536, 512KiB or 64MiB")
	}
	*b = ByteSize(n * mult)
	return nil
}

// Default returns a configuration with every default filled in. It is the
// one place defaults live.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		AgentID:      host,
		StateDir:     "/var/lib/edge-agent",
		StatusSocket: "/run/edge-agent/status.sock",
		LogLevel:     "info",
		Window:       time.Minute,
		Timezone:     "Local",
		Clock:        ClockConfig{RequireSync: true, StepTolerance: 2 * time.Second},
		MQTT:         mqttsync.DefaultConfig(),
		Buffer: BufferConfig{
			MaxBytes:      ByteSize(buffer.DefaultOptions().MaxBytes),
			FlushInterval: buffer.DefaultOptions().FlushInterval,
			FlushRecords:  buffer.DefaultOptions().FlushRecords,
		},
	}
}

// Load reads a config file over the defaults. It checks syntax and keys
// only; call Validate for values.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the config: %v", errors.Unwrap(err))}
	}
	return Parse(path, data)
}

// Parse reads config text (named file in errors) over the defaults.
func Parse(file string, data []byte) (*Config, error) {
	c := Default()
	c.File = file
	c.lines = map[string]int{}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if err.Error() == "EOF" {
			return nil, &Error{File: file, Msg: "the file is empty; see configs/store.example.yaml"}
		}
		msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		return nil, &Error{File: file, Line: line, Msg: "not valid YAML: " + msg}
	}
	d := &decoder{file: file, lines: c.lines}
	if err := d.decode(&root, reflect.ValueOf(&c).Elem(), ""); err != nil {
		return nil, err
	}
	return &c, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// Line returns the line of a dotted key, or 0.
func (c *Config) Line(key string) int { return c.lines[key] }

func (c *Config) errf(key, format string, args ...any) error {
	line := c.lines[key]
	for k := key; line == 0 && k != ""; {
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
		line = c.lines[k]
	}
	msg := fmt.Sprintf(format, args...)
	// Messages from the sections often start with the field's own name;
	// the key already says it.
	last := key[strings.LastIndexAny(key, ".]")+1:]
	if len(last) > 1 { // not "a" of pins.a: that is a word of the message
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, last+": "), last+" ")
	}
	return &Error{File: c.File, Line: line, Key: key, Msg: msg}
}

// Location is the time zone of closing_time.
func (c *Config) Location() (*time.Location, error) {
	if c.Timezone == "" || c.Timezone == "Local" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, c.errf("timezone", "%q is not a known time zone (use an IANA name such as Asia/Tokyo)", c.Timezone)
	}
	return loc, nil
}

// Specs returns the sensors as detection specs (after Validate).
func (c *Config) Specs() ([]sensor.Spec, error) {
	out := make([]sensor.Spec, 0, len(c.Sensors))
	for i, s := range c.Sensors {
		key := fmt.Sprintf("sensors[%d]", i)
		sp, err := sensor.NewSpec(s.ID, sensor.Kind(s.Kind), sensor.Role(s.Role), nil)
		if err != nil {
			return nil, c.errf(key, "%v", err)
		}
		// One key at a time, so that a bad role key (dwell_min_ms: 0) is
		// reported at its own line.
		for _, k := range sortedParamKeys(s.Params) {
			if err := sp.Set(k, s.Params[k]); err != nil {
				return nil, c.errf(key+".params."+k, "%v", err)
			}
		}
		out = append(out, sp)
	}
	return out, nil
}

func sortedParamKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slicesSort(ks)
	return ks
}

// AggregateOptions returns the aggregator's options (after Validate).
func (c *Config) AggregateOptions() aggregate.Options {
	loc, _ := c.Location()
	return aggregate.Options{Window: c.Window, ClosingTime: c.ClosingTime, Location: loc}
}
