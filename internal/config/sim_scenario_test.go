package config

import (
	"errors"
	"strings"
	"testing"
)

// A simulated line may follow a named doorway scenario of the simulator;
// an unknown name, or one on a shelf, is an error naming the key.
func TestSimScenario(t *testing.T) {
	beam := "  - id: street\n    kind: beam-pair\n    role: passerby\n    pins: {a: X, b: Y}\n    simulate: {seed: 1, per_minute: 20, scenario: %s}\n"
	c, err := validateShelf(t, strings.Replace(beam, "%s", "doorway-storefront", 1))
	if err != nil || c.Sensors[1].Simulate.Scenario != "doorway-storefront" {
		t.Fatalf("valid scenario: %v", err)
	}
	for _, tc := range []struct{ sensors, msg string }{
		{strings.Replace(beam, "%s", "doorwey", 1), `"doorwey": no such doorway scenario (known: single-file,`},
		{"  - id: snacks\n    kind: tof-presence\n    role: shelf\n    bus: sim\n    simulate: {seed: 1, per_minute: 2, scenario: doorway}\n",
			"only a simulated door or storefront line has a doorway scenario"},
	} {
		_, err := validateShelf(t, tc.sensors)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "sensors[1].simulate.scenario" || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("got %v, want sensors[1].simulate.scenario: %s", err, tc.msg)
		}
	}
}
