package detect

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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

// doc.go's key tables say what the code does: every key of the people
// counting kinds, with its default and range.
func TestDocTablesMatchParams(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	for _, k := range []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair, sensor.KindPulse} {
		sec := doc[strings.Index(doc, "// "+string(k)+" ("):]
		for _, p := range kindDefs[k].params {
			def := strconv.FormatInt(p.def, 10)
			if p.optional {
				def = "learned"
			}
			want := fmt.Sprintf("%-17s %-8s %d..%d", p.name, def, p.min, p.max)
			i := strings.Index(sec, "//\t"+p.name+" ")
			if i < 0 {
				t.Errorf("%s: key %s not documented in doc.go", k, p.name)
				continue
			}
			line := sec[i+3 : i+3+strings.IndexByte(sec[i:], '\n')-3]
			if !strings.HasPrefix(line, want) {
				t.Errorf("%s: doc.go says %q, want it to start %q", k, line, want)
			}
		}
	}
}
