package detect

import (
	"testing"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// A kind with no detector yet gets a clear error naming it and what is
// supported, whatever kinds are registered at the time.
func TestKindNotSupportedYet(t *testing.T) {
	defs := map[sensor.Kind]kindDef{sensor.KindPulse: kindDefs[sensor.KindPulse]}
	spec := sensor.Spec{ID: "shelf-a", Kind: sensor.KindToFPresence, Role: sensor.RoleShelf}
	_, err := newFrom(defs, spec, 0)
	want := `sensor "shelf-a": kind tof-presence is not supported yet (supported: pulse)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
