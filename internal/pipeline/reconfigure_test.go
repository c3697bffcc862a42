package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

func tofSpec(t *testing.T, kv ...[2]string) sensor.Spec {
	t.Helper()
	s, err := sensor.NewSpec("door", sensor.KindToF2Zone, sensor.RoleEntrance, kv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tofWalkIn feeds one entry under a ToF door with a 2400 mm floor: a head
// at 1900 mm (500 mm below the floor) crosses z0 then z1, both zones read
// every 20 ms from t to t+1000.
func tofWalkIn(p *Pipeline, t int64) {
	for dt := int64(0); dt < 1000; dt += 20 {
		for ch, span := range [2][2]int64{{200, 600}, {350, 750}} {
			v := int64(2400)
			if dt >= span[0] && dt < span[1] {
				v = 1900
			}
			p.Feed(sensor.Reading{TMs: t + dt, Channel: ch, Value: v})
		}
	}
}

// A calibration changes what is counted from then on; what was counted
// before stays in the open window.
func TestReconfigureKeepsCountsChangesDetection(t *testing.T) {
	base := [][2]string{{"baseline_z0_mm", "2400"}, {"baseline_z1_mm", "2400"}}
	p, err := New([]sensor.Spec{tofSpec(t, base...)}, aggregate.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p.SetAnchor(nine)
	tofWalkIn(p, 0)
	tofWalkIn(p, 2000)
	p.Advance(4000)
	if _, c := p.Aggregator().OpenCounts(); c[0].Entries != 2 {
		t.Fatalf("threshold 300: entries %d, want 2", c[0].Entries)
	}
	// A threshold deeper than the head: the same walks count nothing.
	if err := p.Reconfigure(0, tofSpec(t, append(base, [2]string{"threshold_mm", "700"})...)); err != nil {
		t.Fatal(err)
	}
	tofWalkIn(p, 4000)
	tofWalkIn(p, 6000)
	p.Advance(8000)
	if _, c := p.Aggregator().OpenCounts(); c[0].Entries != 2 {
		t.Fatalf("threshold 700: entries %d, want the 2 counted before", c[0].Entries)
	}
	// Back to a shallow threshold: counted again, on top.
	if err := p.Reconfigure(0, tofSpec(t, append(base, [2]string{"threshold_mm", "400"})...)); err != nil {
		t.Fatal(err)
	}
	tofWalkIn(p, 8000)
	p.Advance(10000)
	if _, c := p.Aggregator().OpenCounts(); c[0].Entries != 3 {
		t.Fatalf("threshold 400: entries %d, want 3", c[0].Entries)
	}
}

func TestReconfigureRejects(t *testing.T) {
	p, err := New([]sensor.Spec{tofSpec(t)}, aggregate.Options{Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	bad := tofSpec(t)
	bad.Params = map[string]string{"baseline_zz_mm": "1"}
	other, _ := sensor.NewSpec("street", sensor.KindToF2Zone, sensor.RolePasserby, nil)
	for _, c := range []struct {
		i    int
		spec sensor.Spec
		want string
	}{
		{0, bad, `unknown key "baseline_zz_mm"`},
		{0, other, "same id, kind and role"},
		{3, tofSpec(t), "no sensor 3"},
	} {
		if err := p.Reconfigure(c.i, c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Reconfigure(%d, %v) = %v, want %q", c.i, c.spec.Params, err, c.want)
		}
	}
}
