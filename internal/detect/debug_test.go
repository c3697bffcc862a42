package detect_test

import (
	"os"
	"testing"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

func TestDebugMiss(t *testing.T) {
	name := os.Getenv("SCEN")
	if name == "" {
		t.Skip()
	}
	cfg, _ := sim.Scenario(name, 1)
	if os.Getenv("SEED") == "2" {
		cfg.Seed = 2
	}
	w, _ := sim.New(cfg)
	spec, _ := sensor.NewSpec("s", sensor.KindToF2Zone, w.Role(), nil)
	d, _ := detect.New(spec, 0)
	rs, _ := w.Readings(sensor.KindToF2Zone, 0, nil)
	var evs []sensor.Event
	for _, r := range rs {
		evs = d.Feed(r, evs)
	}
	used := make([]bool, len(evs))
	for _, p := range w.People() {
		// find event within window
		found := -1
		for i, e := range evs {
			if !used[i] && e.TMs >= p.CrossMs()-2000 && e.TMs <= p.CrossMs()+2000 && p.CrossMs() >= 0 {
				want := sensor.Entry
				if p.Dir < 0 {
					want = sensor.Exit
				}
				if e.Type == want {
					found = i
					break
				}
			}
		}
		if found >= 0 {
			used[found] = true
			continue
		}
		if p.CrossMs() < 0 {
			continue
		}
		if os.Getenv("MISS") == "" {
			continue
		}
		t.Logf("MISS dir %d %v h %d v %d child %v cross %d", p.Dir, p.Behaviour, p.HeightMM, p.SpeedMMs, p.Child, p.CrossMs())
		for _, r := range rs {
			if r.TMs > p.CrossMs()-1200 && r.TMs < p.CrossMs()+400 {
				t.Logf("   %d z%d %d", r.TMs, r.Channel, r.Value)
			}
		}
	}
	for i, e := range evs {
		if !used[i] {
			t.Logf("EXTRA %v at %d", e.Type, e.TMs)
			for _, r := range rs {
				if r.TMs > e.TMs-1500 && r.TMs <= e.TMs {
					t.Logf("   %d z%d %d", r.TMs, r.Channel, r.Value)
				}
			}
		}
	}
}
