package sim

import (
	"fmt"
	"strings"
)

// scenarios are the named worlds tests and the demo use. Each is an hour so
// that a 2 % accuracy bound means something (hundreds of crossings).
var scenarios = []struct {
	name string
	doc  string
	set  func(c *Config)
}{
	{"single-file", "groups of 2-5 walking single file, 0.3-1 s apart", func(c *Config) {
		c.ArrivalsPerMin, c.PGroup, c.GroupMax = 2, 1, 5
	}},
	{"fast", "everyone runs, 2.5-3.5 m/s; ToF at 33 ms a ranging", func(c *Config) {
		c.ArrivalsPerMin, c.PFast, c.ToFPeriodMs = 6, 1, 33
	}},
	{"slow", "everyone dawdles, 0.4-0.7 m/s", func(c *Config) {
		c.ArrivalsPerMin, c.PSlow, c.PGroup = 4, 1, 0.2
	}},
	{"lingering", "40 % stand 2-12 s under the sensor, half then go back", func(c *Config) {
		c.ArrivalsPerMin, c.PLingerCross, c.PLingerBack = 4, 0.2, 0.2
	}},
	{"u-turns", "40 % step into the doorway and turn back", func(c *Config) {
		c.ArrivalsPerMin, c.PUTurn = 6, 0.4
	}},
	{"children", "60 % children 0.9-1.3 m, some families in single file; 2.8 m ceiling", func(c *Config) {
		c.ArrivalsPerMin, c.PChild, c.PGroup, c.MountMM = 5, 0.6, 0.3, 2800
	}},
	{"noise", "noisy ranges (35 mm), 5 % invalid readings (15 % under a person), 1 % spurious ranges, glitchy beams and pulse lines", func(c *Config) {
		c.ArrivalsPerMin, c.NoiseMM = 5, 35
		c.PInvalidEmpty, c.PInvalidPerson, c.PGlitch = 0.05, 0.15, 0.01
		c.BeamGlitchPerMin, c.PBounce, c.PulseGlitchPerMin = 30, 0.8, 10
	}},
	{"arm-flicker", "everyone's arm swing flickers the neighbouring zone/beam", func(c *Config) {
		c.ArrivalsPerMin, c.PFlicker = 6, 1
	}},
	{"storefront", "passers-by both ways along the shop window, a few turn back", func(c *Config) {
		c.Line, c.ArrivalsPerMin, c.PUTurn, c.PGroup = Storefront, 8, 0.05, 0.15
	}},
	{"mixed-hour", "a realistic hour: groups, runners, dawdlers, children, U-turns, lingerers, arm swing, noise", func(c *Config) {
		c.ArrivalsPerMin, c.MountMM, c.ToFPeriodMs = 5, 2700, 33
		c.PGroup, c.GroupMax = 0.25, 4
		c.PFast, c.PSlow, c.PChild, c.PFlicker = 0.05, 0.1, 0.15, 0.3
		c.PUTurn, c.PLingerCross, c.PLingerBack = 0.06, 0.03, 0.03
		c.NoiseMM, c.PInvalidEmpty, c.PInvalidPerson, c.PGlitch = 15, 0.005, 0.03, 0.003
		c.BeamGlitchPerMin = 2
	}},
}

// ScenarioNames lists the named scenarios.
func ScenarioNames() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// ScenarioDoc returns the one-line description of a named scenario.
func ScenarioDoc(name string) string {
	for _, s := range scenarios {
		if s.name == name {
			return s.doc
		}
	}
	return ""
}

// Scenario returns the configuration of a named scenario with the given seed.
func Scenario(name string, seed uint64) (Config, error) {
	for _, s := range scenarios {
		if s.name == name {
			c := DefaultConfig()
			c.Name, c.Seed = name, seed
			s.set(&c)
			return c, nil
		}
	}
	return Config{}, fmt.Errorf("sim: unknown scenario %q (known: %s)", name, strings.Join(ScenarioNames(), ", "))
}
