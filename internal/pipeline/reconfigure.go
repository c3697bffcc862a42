package pipeline

import (
	"fmt"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Reconfigure replaces sensor i's detector by one built from spec (new
// kind keys: a calibration). The aggregator's counts, open window and
// every other sensor are untouched; what the old detector had under way
// (a crossing half seen) is dropped, as a restart would drop it. The spec
// must be the same sensor: same id, kind and role. The specs slice given
// to New is not written (callers may share it with other goroutines).
func (p *Pipeline) Reconfigure(i int, spec sensor.Spec) error {
	if i < 0 || i >= len(p.dets) {
		return fmt.Errorf("reconfigure: no sensor %d (have %d)", i, len(p.dets))
	}
	old := p.specs[i]
	if spec.ID != old.ID || spec.Kind != old.Kind || spec.Role != old.Role {
		return fmt.Errorf("reconfigure sensor %q: new spec is %q (%s, %s), want the same id, kind and role (%s, %s)",
			old.ID, spec.ID, spec.Kind, spec.Role, old.Kind, old.Role)
	}
	d, err := detect.New(spec, i)
	if err != nil {
		return fmt.Errorf("sensor %q: %w", spec.ID, err)
	}
	p.dets[i] = d
	return nil
}
