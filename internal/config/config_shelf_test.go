package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// shelfBase is a valid store up to its sensors list; each case appends
// its sensors.
const shelfBase = `store_id: s1
agent_id: pi-1
state_dir: /tmp/x
mqtt:
  broker: tcp://127.0.0.1:1883
sensors:
  - id: door
    kind: tof-2zone
    role: entrance
    bus: "1"
`

func validateShelf(t *testing.T, sensors string) (*Config, error) {
	t.Helper()
	c, err := Parse("store.yaml", []byte(shelfBase+sensors))
	if err != nil {
		return nil, err
	}
	return c, c.Validate()
}

func TestShelfConfigValid(t *testing.T) {
	c, err := validateShelf(t, `  - id: snacks
    kind: tof-presence
    role: shelf
    bus: "1"
    address: 0x30
    xshut: GPIO17
    distance_mode: short
    timing_budget: 33ms
    sample_every: 100ms
    roi: {width: 12, height: 16, center: 199}
    params: {dwell_min_ms: "4000", threshold_mm: "250"}
  - id: drinks
    kind: tof-presence
    role: shelf
    adc: mcp3008
    spi: /dev/spidev0.0
    channel: 0
    sharp: GP2Y0A02YK0F
    vref: 3.3
    sample_every: 50ms
  - id: magazines
    kind: pir
    role: shelf
    pins: {motion: GPIO23}
    params: {hold_ms: "3000"}
  - id: sim-shelf
    kind: tof-presence
    role: shelf
    adc: mcp3008
    channel: 7
    simulate: {seed: 3, per_minute: 2, passers_per_minute: 0, aisle_mm: 2400}
`)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Sensors[2]
	if *d.Channel != 0 || d.SPI != "/dev/spidev0.0" || d.ADC != "mcp3008" || d.SampleEvery != 50*time.Millisecond || d.Vref != 3.3 {
		t.Fatalf("Sharp sensor decoded as %+v", d)
	}
	if r := c.Sensors[1].ROI; r != (ROIConfig{Width: 12, Height: 16, Center: 199}) {
		t.Fatalf("roi %+v", r)
	}
	if s := c.Sensors[4].Simulate; *s.PassersPerMinute != 0 || s.AisleMM != 2400 || *c.Sensors[4].Channel != 7 {
		t.Fatalf("simulate %+v", s)
	}
	specs, err := c.Specs()
	if err != nil {
		t.Fatal(err)
	}
	if specs[1].DwellMinMs != 4000 || specs[2].DwellMinMs != 3000 {
		t.Fatalf("dwell_min_ms %d, %d", specs[1].DwellMinMs, specs[2].DwellMinMs)
	}
}

// Every bad shelf value is an error naming the key, at its line, saying
// what would be right.
func TestShelfConfigErrors(t *testing.T) {
	sharp := func(extra string) string {
		return "  - id: drinks\n    kind: tof-presence\n    role: shelf\n" + extra
	}
	for _, tc := range []struct {
		name, sensors, key, msg string
		line                    int
	}{
		{"channel above 7", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: 8\n"),
			"sensors[1].channel", "8 is out of range: the MCP3008 has inputs 0..7", 16},
		{"channel negative", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: -1\n"),
			"sensors[1].channel", "-1 is out of range", 16},
		{"channel missing", sharp("    adc: mcp3008\n    spi: SPI0.0\n"),
			"sensors[1].channel", "required with adc: mcp3008", 11},
		{"channel not a number", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: two\n"),
			"sensors[1].channel", `"two" is not a whole number`, 16},
		{"unknown sharp model", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: 1\n    sharp: gp2d12\n"),
			"sensors[1].sharp", `"gp2d12" is not a supported Sharp model: want gp2y0a21yk0f (10-80 cm) or gp2y0a02yk0f (20-150 cm)`, 17},
		{"adc without spi", sharp("    adc: mcp3008\n    channel: 1\n"),
			"sensors[1].spi", "required with adc: mcp3008: the SPI port", 11},
		{"unknown adc", sharp("    adc: ads1115\n    spi: SPI0.0\n    channel: 1\n"),
			"sensors[1].adc", `"ads1115": the supported ADC is mcp3008`, 14},
		{"channel without adc", sharp("    bus: \"1\"\n    channel: 1\n"),
			"sensors[1].channel", "add adc: mcp3008", 15},
		{"sharp with a VL53L1X setting", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: 1\n    timing_budget: 50ms\n"),
			"sensors[1].timing_budget", "VL53L1X setting", 17},
		{"vref out of range", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: 1\n    vref: 12\n"),
			"sensors[1].vref", "want the MCP3008's VREF, 1 to 5.5 V", 17},
		{"sharp sampled too fast", sharp("    adc: mcp3008\n    spi: SPI0.0\n    channel: 1\n    sample_every: 1ms\n"),
			"sensors[1].sample_every", "1ms: want 10ms to 1s", 17},
		{"VL53L1X sampled faster than its budget", sharp("    bus: \"1\"\n    timing_budget: 100ms\n    sample_every: 50ms\n"),
			"sensors[1].sample_every", "want from the timing budget (100ms)", 16},
		{"VL53L1X budget", sharp("    bus: \"1\"\n    timing_budget: 40ms\n"),
			"sensors[1].timing_budget", "40ms: the VL53L1X supports 20ms, 33ms", 15},
		{"presence with two zones", sharp("    bus: \"1\"\n    roi: {width: 8, height: 16, z0_center: 167, z1_center: 231}\n"),
			"sensors[1].roi", "ranges one zone: give its center", 15},
		{"presence roi too small", sharp("    bus: \"1\"\n    roi: {width: 2, height: 16}\n"),
			"sensors[1].roi", "4..16 SPADs, got 2x16", 15},
		{"presence without bus", sharp(""),
			"sensors[1].bus", "required for a tof-presence sensor: the I2C bus", 11},
		{"adc on a door", "  - id: door2\n    kind: tof-2zone\n    role: entrance\n    bus: \"1\"\n    adc: mcp3008\n",
			"sensors[1].adc", "only a tof-presence sensor has adc", 15},
		{"dwell zero", sharp("    bus: \"1\"\n    params: {dwell_min_ms: \"0\"}\n"),
			"sensors[1].params.dwell_min_ms", `key dwell_min_ms="0": want a whole number of milliseconds > 0`, 15},
		{"dwell negative on a pir", "  - id: mags\n    kind: pir\n    role: shelf\n    pins: {motion: GPIO23}\n    params:\n      dwell_min_ms: \"-5\"\n",
			"sensors[1].params.dwell_min_ms", `key dwell_min_ms="-5"`, 16},
		{"pir without motion pin", "  - id: mags\n    kind: pir\n    role: shelf\n    pins: {}\n",
			"sensors[1].pins", "required for a pir sensor", 14},
		{"pir pin on the wrong channel", "  - id: mags\n    kind: pir\n    role: shelf\n    pins: {a: GPIO23}\n",
			"sensors[1].pins.a", `pir sensor has no channel "a" (its channels: motion)`, 14},
		{"pir detector key", "  - id: mags\n    kind: pir\n    role: shelf\n    pins: {motion: GPIO23}\n    params: {hold_ms: lots}\n",
			"sensors[1].params", `key hold_ms="lots"`, 15},
		{"simulated shelf browsers", sharp("    bus: sim\n    simulate: {seed: 1, per_minute: 90}\n"),
			"sensors[1].simulate.per_minute", "at most 60 shoppers a minute", 15},
		{"simulated shelf aisle", sharp("    bus: sim\n    simulate: {seed: 1, per_minute: 2, aisle_mm: 300}\n"),
			"sensors[1].simulate.aisle_mm", "300: want 1000 to 10000 mm", 15},
		{"simulated shelf mount", sharp("    bus: sim\n    simulate: {seed: 1, per_minute: 2, mount_mm: 2500}\n"),
			"sensors[1].simulate.mount_mm", "use aisle_mm", 15},
		{"simulated door with aisle passers", "  - id: door2\n    kind: beam-pair\n    role: entrance\n    pins: {a: X, b: Y}\n    simulate: {seed: 1, per_minute: 2, passers_per_minute: 3}\n",
			"sensors[1].simulate.passers_per_minute", "only a simulated shelf has passers_per_minute", 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validateShelf(t, tc.sensors)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want a *config.Error, got %v", err)
			}
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) || ce.Line != tc.line {
				t.Fatalf("got %s (key %q, line %d)\nwant key %q, line %d, message containing %q", err, ce.Key, ce.Line, tc.key, tc.line, tc.msg)
			}
		})
	}
}

// A plate's shelf must be a shelf sensor of the config; the error names
// the plate's shelf key.
func TestPlateShelfReference(t *testing.T) {
	plate := func(shelf string) string {
		return "  - id: snacks\n    kind: tof-presence\n    role: shelf\n    bus: \"1\"\n" +
			"  - id: plate-1\n    kind: nfc-plate\n    role: plate\n    params: {shelf: " + shelf + "}\n    simulate: {seed: 1, per_minute: 1}\n"
	}
	for _, tc := range []struct{ shelf, msg string }{
		{"drinks", `"drinks": no sensor has that id (shelves: snacks)`},
		{"door", `"door" is a entrance sensor, not a shelf`},
	} {
		_, err := validateShelf(t, plate(tc.shelf))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("shelf %s: want a *config.Error, got %v", tc.shelf, err)
		}
		if ce.Key != "sensors[2].params.shelf" || ce.Line != 18 || !strings.Contains(ce.Msg, tc.msg) {
			t.Fatalf("shelf %s: %v (key %q, line %d)", tc.shelf, err, ce.Key, ce.Line)
		}
	}
	if _, err := validateShelf(t, plate("snacks")); err != nil {
		t.Fatalf("a plate on a configured shelf: %v", err)
	}
}
