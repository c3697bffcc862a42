package sim

import (
	"fmt"
	"strings"
)

// scenario is one named variation of a world's default configuration.
type scenario[C any] struct {
	name string
	doc  string
	set  func(c *C)
}

// scenarioTable is the named scenarios of one kind of world (doorway,
// shelf, NFC): base gives the default configuration labelled with a name
// and seed, unknown the error for a name not in list.
type scenarioTable[C any] struct {
	base    func(name string, seed uint64) C
	unknown func(name string, known []string) error
	list    []scenario[C]
}

func (t *scenarioTable[C]) names() []string {
	out := make([]string, len(t.list))
	for i, s := range t.list {
		out[i] = s.name
	}
	return out
}

func (t *scenarioTable[C]) doc(name string) string {
	for _, s := range t.list {
		if s.name == name {
			return s.doc
		}
	}
	return ""
}

// config returns the configuration of the named scenario with the given seed.
func (t *scenarioTable[C]) config(name string, seed uint64) (C, error) {
	for _, s := range t.list {
		if s.name == name {
			c := t.base(name, seed)
			s.set(&c)
			return c, nil
		}
	}
	var zero C
	return zero, t.unknown(name, t.names())
}

// scenarios are the named worlds tests and the demo use. Each is an hour so
// that a 2 % accuracy bound means something (hundreds of crossings).
var scenarios = scenarioTable[Config]{
	base: func(name string, seed uint64) Config {
		c := DefaultConfig()
		c.Name, c.Seed = name, seed
		return c
	},
	unknown: func(name string, known []string) error {
		return fmt.Errorf("sim: unknown scenario %q (known: %s)", name, strings.Join(known, ", "))
	},
	list: []scenario[Config]{
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
		{"doorway", "a real doorway, 5 a minute both ways: interior gaps, leading flicker, tailgaters, side-by-side pairs; 8 cm beams", doorway(Door, 5)},
		{"doorway-storefront", "a busy real storefront, 20 a minute: interior gaps, leading flicker, tailgaters, side-by-side pairs; 8 cm beams", doorway(Storefront, 20)},
	},
}

// doorway is what the beams of a real doorway see (issue 8): every block
// clears 1-3 times inside for 6-40 ms, half the people lead with a hand
// 40-120 ms ahead, one party in ten is a tailgating pair (0-6 cm apart)
// and one in twenty walks abreast; walkers 0.8-1.8 m/s, body depth
// 22-34 cm, beams 8 cm apart; plus groups, a few U-turns and lingerers,
// arm swing and beam glitches.
func doorway(line Line, perMin float64) func(c *Config) {
	return func(c *Config) {
		c.Line, c.ArrivalsPerMin, c.PForward = line, perMin, 0.5
		c.SpeedMinMMs, c.SpeedMaxMMs, c.DepthMinMM, c.DepthMaxMM = 800, 1800, 220, 340
		c.BeamSpacingMM, c.BeamGlitchPerMin = 80, 2
		c.PInteriorGaps, c.PLeadFlicker, c.PTailgate, c.PSideBySide = 1, 0.5, 0.1, 0.05
		c.PGroup, c.PFlicker, c.PChild = 0.15, 0.2, 0.05
		c.PUTurn, c.PLingerCross, c.PLingerBack = 0.04, 0.02, 0.02
	}
}

// ScenarioNames lists the named scenarios.
func ScenarioNames() []string { return scenarios.names() }

// ScenarioDoc returns the one-line description of a named scenario.
func ScenarioDoc(name string) string { return scenarios.doc(name) }

// Scenario returns the configuration of a named scenario with the given seed.
func Scenario(name string, seed uint64) (Config, error) { return scenarios.config(name, seed) }
