package detect_test

import (
	"os"
	"strconv"
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
	if sd := os.Getenv("SEED"); sd != "" {
		n, _ := strconv.Atoi(sd)
		cfg.Seed = uint64(n)
	}
	kind := sensor.KindToF2Zone
	if k := os.Getenv("KIND"); k != "" {
		kind = sensor.Kind(k)
	}
	w, _ := sim.New(cfg)
	spec, _ := sensor.NewSpec("s", kind, w.Role(), nil)
	d, _ := detect.New(spec, 0)
	rs, _ := w.Readings(kind, 0, nil)
	var evs []sensor.Event
	for _, r := range rs {
		evs = d.Feed(r, evs)
	}
	evs = d.Flush(1<<40, evs)
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

func TestDebugWindow(t *testing.T) {
	name := os.Getenv("SCEN")
	from, _ := strconv.ParseInt(os.Getenv("FROM"), 10, 64)
	if name == "" || from == 0 {
		t.Skip()
	}
	cfg, _ := sim.Scenario(name, 1)
	if sd := os.Getenv("SEED"); sd != "" {
		n, _ := strconv.Atoi(sd)
		cfg.Seed = uint64(n)
	}
	w, _ := sim.New(cfg)
	spec, _ := sensor.NewSpec("s", sensor.KindToF2Zone, w.Role(), nil)
	d, _ := detect.New(spec, 0)
	rs, _ := w.Readings(sensor.KindToF2Zone, 0, nil)
	var evs []sensor.Event
	for _, r := range rs {
		n := len(evs)
		evs = d.Feed(r, evs)
		if r.TMs >= from && r.TMs < from+1500 {
			t.Logf("%d z%d %d", r.TMs, r.Channel, r.Value)
			for _, e := range evs[n:] {
				t.Logf("   EVENT %v", e.Type)
			}
		}
	}
	for _, p := range w.People() {
		if p.CrossMs() > from-2000 && p.CrossMs() < from+3000 {
			t.Logf("person dir %d cross %d %v", p.Dir, p.CrossMs(), p.Behaviour)
		}
	}
}
