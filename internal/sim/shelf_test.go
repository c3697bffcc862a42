package sim

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pir"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/trace"
)

func shelfOf(t *testing.T, name string, seed uint64) *Shelf {
	t.Helper()
	cfg, err := ShelfScenario(name, seed)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewShelf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShelfScenariosBuild(t *testing.T) {
	for _, name := range ShelfScenarioNames() {
		if ShelfScenarioDoc(name) == "" {
			t.Errorf("%s: no doc", name)
		}
		s := shelfOf(t, name, 1)
		tr := s.ShelfTruth(0, s.Config().DurationMs+60000)
		if tr.StopBys < 90 || len(tr.DwellMs) != tr.StopBys {
			t.Errorf("%s: %d stop-bys (%d dwells) in an hour, want a busy shelf", name, tr.StopBys, len(tr.DwellMs))
		}
		for _, d := range tr.DwellMs {
			if d < s.Config().DwellMinMs || d > s.Config().DwellHiMs {
				t.Errorf("%s: dwell %d outside [dwell_min, DwellHiMs]", name, d)
			}
		}
	}
	if _, err := ShelfScenario("nope", 1); err == nil || !strings.Contains(err.Error(), "mixed-hour") {
		t.Errorf("unknown scenario: %v, want an error listing the known ones", err)
	}
}

func TestShelfDeterministic(t *testing.T) {
	a, b := shelfOf(t, "mixed-hour", 7), shelfOf(t, "mixed-hour", 7)
	c := shelfOf(t, "mixed-hour", 8)
	same, diff := true, false
	for tm := int64(0); tm < 600_000; tm += 100 {
		if a.ShelfDistance(tm) != b.ShelfDistance(tm) || a.PIRMotion(tm) != b.PIRMotion(tm) {
			same = false
		}
		if a.ShelfDistance(tm) != c.ShelfDistance(tm) {
			diff = true
		}
	}
	if !same || !diff {
		t.Errorf("same seed same world: %v; other seed other world: %v", same, diff)
	}
}

// TestShelfSensorsSeeShoppers checks what the sensors see against who is
// there: idle the far side, a browser at their distance (give or take
// sway, noise and pose shifts), -1 only for invalid readings.
func TestShelfSensorsSeeShoppers(t *testing.T) {
	s := shelfOf(t, "browsers-with-pose-shifts", 1)
	c := s.Config()
	var idleN, idleFar, presN, presNear int
	for tm := int64(0); tm < c.DurationMs; tm += 100 {
		var nearest *Shopper
		for _, p := range s.Shoppers() {
			if tm >= p.ArriveMs && tm < p.LeaveMs && (nearest == nil || p.DistMM < nearest.DistMM) {
				nearest = p
			}
		}
		d := s.ShelfDistance(tm)
		if d == -1 {
			continue
		}
		if nearest == nil {
			idleN++
			if d > c.AisleMM-100 && d < c.AisleMM+100 {
				idleFar++
			}
			continue
		}
		presN++
		if d > nearest.DistMM-300 && d < nearest.DistMM+700 {
			presNear++
		}
	}
	if float64(idleFar) < 0.99*float64(idleN) {
		t.Errorf("idle: %d of %d readings at the far side, want 99%%", idleFar, idleN)
	}
	if float64(presNear) < 0.95*float64(presN) {
		t.Errorf("present: %d of %d readings near the shopper, want 95%% (some see past them)", presNear, presN)
	}
	if presNear == presN {
		t.Error("no pose shift seen at all")
	}
}

func TestShelfDropoutsAndPassers(t *testing.T) {
	s := shelfOf(t, "dropouts", 1)
	inv, n := 0, 0
	for tm := int64(0); tm < s.Config().DurationMs; tm += 100 {
		n++
		if s.ShelfDistance(tm) == -1 {
			inv++
		}
	}
	if share := float64(inv) / float64(n); share < 0.03 || share > 0.2 {
		t.Errorf("dropouts: %.3f of readings invalid, want a few %%", share)
	}
	s = shelfOf(t, "aisle-passersby", 1)
	tr := s.ShelfTruth(0, s.Config().DurationMs+60000)
	if tr.Passing < 400 {
		t.Errorf("aisle: %d short presences, want hundreds of passers-by", tr.Passing)
	}
	for _, p := range s.Shoppers() {
		if !p.Browser && p.DwellMs() >= s.Config().DwellMinMs {
			t.Fatalf("a passer-by stays %d ms", p.DwellMs())
		}
	}
}

func TestShelfBackToBackAndOverlap(t *testing.T) {
	s := shelfOf(t, "back-to-back", 1)
	var b2b int
	var prev *Shopper
	for _, p := range s.Shoppers() {
		if !p.Browser {
			continue
		}
		if p.BackToBack {
			b2b++
			if gap := p.ArriveMs - prev.LeaveMs; gap < 1000 || gap > 3000 {
				t.Errorf("back-to-back gap %d ms, want 1-3 s", gap)
			}
		}
		prev = p
	}
	if b2b < 50 {
		t.Errorf("%d back-to-back arrivals, want many", b2b)
	}
	s = shelfOf(t, "mixed-hour", 2)
	ov := 0
	for _, p := range s.Shoppers() {
		if p.Overlap {
			ov++
		}
	}
	if ov == 0 {
		t.Error("mixed hour: no overlapping browsers")
	}
}

// TestShelfPIRMatchesModule checks the aisle's PIR output against the
// driver's HC-SR501 model for the same triggers.
func TestShelfPIRMatchesModule(t *testing.T) {
	s := shelfOf(t, "mixed-hour", 1)
	c := s.Config()
	t0 := time.Unix(0, 0)
	var trig []time.Time
	for _, ms := range s.PIRTriggers() {
		trig = append(trig, t0.Add(time.Duration(ms)*time.Millisecond))
	}
	m := pir.Module{Hold: time.Duration(c.PIRHoldMs) * time.Millisecond, Block: time.Duration(c.PIRBlockMs) * time.Millisecond, Retrigger: c.PIRRetrigger}
	spans := m.Output(trig)
	if len(spans) != len(s.pir) || len(spans) < 100 {
		t.Fatalf("%d spans from the module model, %d from the aisle", len(spans), len(s.pir))
	}
	for i, sp := range spans {
		if sp.Start.Sub(t0).Milliseconds() != s.pir[i].start || sp.End.Sub(t0).Milliseconds() != s.pir[i].end {
			t.Fatalf("span %d: module %v..%v, aisle %d..%d", i, sp.Start.Sub(t0), sp.End.Sub(t0), s.pir[i].start, s.pir[i].end)
		}
	}
	// A browser standing still produces less motion: some stays show
	// output gaps while the shopper is there.
	gaps := 0
	for _, p := range s.Shoppers() {
		if p.Browser && p.DwellMs() > 20000 {
			for tm := p.ArriveMs; tm < p.LeaveMs; tm += 100 {
				if !s.PIRMotion(tm) {
					gaps++
					break
				}
			}
		}
	}
	if gaps == 0 {
		t.Error("no long stay ever lets the PIR fall")
	}
}

// TestShelfTraceParses renders a scenario and reads it back with the trace
// reader: the header declares both sensors, every reading parses and
// matches the aisle.
func TestShelfTraceParses(t *testing.T) {
	s := shelfOf(t, "noisy", 1)
	var buf bytes.Buffer
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	err := s.WriteTrace(&buf, start,
		TraceSensor{ID: "shelf-a", Kind: sensor.KindToFPresence},
		TraceSensor{ID: "shelf-a-pir", Kind: sensor.KindPIR, Params: [][2]string{{"merge_gap_ms", "6000"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "# sensor shelf-a-pir kind=pir role=shelf dwell_min_ms=3000 hold_ms=3000 merge_gap_ms=6000\n") {
		t.Errorf("header:\n%.400s", buf.String())
	}
	r, err := trace.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var rd sensor.Reading
	n, pirN, last := 0, 0, int64(-1)
	for {
		err := r.Next(&rd)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rd.TMs < last {
			t.Fatalf("t_ms goes back at %d", rd.TMs)
		}
		last = rd.TMs
		switch rd.Sensor {
		case 0:
			if want := int64(s.ShelfDistance(rd.TMs)); rd.Value != want {
				t.Fatalf("t=%d: d=%d, want %d", rd.TMs, rd.Value, want)
			}
			n++
		case 1:
			if want := s.PIRMotion(rd.TMs); (rd.Value == 1) != want {
				t.Fatalf("t=%d: motion=%d, want %v", rd.TMs, rd.Value, want)
			}
			pirN++
		}
	}
	if n != int(s.Config().DurationMs/int64(s.Config().SamplePeriodMs)) || pirN < 100 {
		t.Errorf("%d distance readings, %d motion changes", n, pirN)
	}
	if err := s.WriteTrace(io.Discard, start, TraceSensor{ID: "x", Kind: sensor.KindToF2Zone}); err == nil {
		t.Error("a doorway kind at a shelf: no error")
	}
}

func TestShelfConfigValidate(t *testing.T) {
	for _, c := range []struct {
		set  func(c *ShelfConfig)
		want string
	}{
		{func(c *ShelfConfig) { c.DwellMinMs = 0 }, "DwellMinMs"},
		{func(c *ShelfConfig) { c.SamplePeriodMs = 1 }, "SamplePeriodMs"},
		{func(c *ShelfConfig) { c.StandMaxMM = 1700 }, "StandMinMM..StandMaxMM"},
		{func(c *ShelfConfig) { c.PBackToBack, c.POverlap = 0.7, 0.5 }, "PBackToBack+POverlap"},
		{func(c *ShelfConfig) { c.PInvalid = 2 }, "PInvalid"},
		{func(c *ShelfConfig) { c.DropoutsPerMin = -1 }, "DropoutsPerMin"},
	} {
		cfg := DefaultShelfConfig()
		c.set(&cfg)
		if _, err := NewShelf(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one naming %s", err, c.want)
		}
	}
}

func BenchmarkShelfDistance(b *testing.B) {
	cfg, _ := ShelfScenario("mixed-hour", 1)
	s, _ := NewShelf(cfg)
	var tm int64
	b.ReportAllocs()
	for b.Loop() {
		s.ShelfDistance(tm % cfg.DurationMs)
		tm += 100
	}
}
