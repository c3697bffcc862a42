package agent

import (
	"testing"

	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sim"
)

// A simulated line with a scenario follows that scenario's physics, at the
// configured rate, on the line its role says.
func TestCrowdScenario(t *testing.T) {
	sc := config.SensorConfig{ID: "street", Kind: "beam-pair", Role: "passerby",
		Simulate: &config.SimConfig{Seed: 2, PerMinute: 30, Scenario: "doorway"}}
	cr, err := newCrowd(sc)
	if err != nil {
		t.Fatal(err)
	}
	c := cr.base
	if c.PInteriorGaps != 1 || c.BeamSpacingMM != 80 || c.ArrivalsPerMin != 30 || c.Line != sim.Storefront || c.DurationMs != simSegmentMs {
		t.Fatalf("crowd config %+v", c)
	}
	sc.Simulate.Scenario = ""
	if cr, err = newCrowd(sc); err != nil || cr.base.PInteriorGaps != 0 {
		t.Fatalf("default crowd %+v, %v", cr.base, err)
	}
	sc.Simulate.Scenario = "nope"
	if _, err := newCrowd(sc); err == nil {
		t.Fatal("unknown scenario: no error")
	}
}
