package detect_test

import (
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

func newDetector(t *testing.T, kind sensor.Kind, role sensor.Role, kv ...[2]string) detect.Detector {
	t.Helper()
	spec, err := sensor.NewSpec("door", kind, role, kv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := detect.New(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// world is a clean (noise-free) doorway where exactly the given people come.
func world(t *testing.T, visits ...sim.Visit) *sim.World {
	t.Helper()
	c := sim.DefaultConfig()
	c.Name, c.DurationMs, c.Visits = "unit", 40000, visits
	c.PInvalidEmpty, c.PInvalidPerson, c.PGlitch, c.BeamGlitchPerMin, c.PulseGlitchPerMin = 0, 0, 0, 0, 0
	w, err := sim.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// events runs all of w's readings of kind through a fresh detector.
func events(t *testing.T, w *sim.World, kind sensor.Kind) []sensor.Event {
	t.Helper()
	d := newDetector(t, kind, w.Role())
	rs, err := w.Readings(kind, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ev []sensor.Event
	for _, r := range rs {
		ev = d.Feed(r, ev)
	}
	return d.Flush(w.Config().DurationMs+5000, ev)
}

func types(ev []sensor.Event) []sensor.EventType {
	out := []sensor.EventType{}
	for _, e := range ev {
		out = append(out, e.Type)
	}
	return out
}

func equal(a, b []sensor.EventType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var peopleKinds = []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair}

// Behaviours one at a time, for both physical sensors.
func TestBehaviours(t *testing.T) {
	E, X := sensor.Entry, sensor.Exit
	for _, c := range []struct {
		name  string
		visit sim.Visit
		want  []sensor.EventType
	}{
		{"walk in", sim.Visit{AtMs: 2000, Dir: 1}, []sensor.EventType{E}},
		{"walk out", sim.Visit{AtMs: 2000, Dir: -1}, []sensor.EventType{X}},
		{"U-turn up to the line", sim.Visit{AtMs: 2000, Dir: 1, Behaviour: sim.UTurn, TurnMM: -20}, nil},
		{"U-turn past the line", sim.Visit{AtMs: 2000, Dir: 1, Behaviour: sim.UTurn, TurnMM: 60}, nil},
		{"U-turn from the store", sim.Visit{AtMs: 2000, Dir: -1, Behaviour: sim.UTurn, TurnMM: 50}, nil},
		{"shallow U-turn", sim.Visit{AtMs: 2000, Dir: 1, Behaviour: sim.UTurn, TurnMM: -300}, nil},
		{"lingers, then goes in", sim.Visit{AtMs: 2000, Dir: 1, Behaviour: sim.LingerCross, StayMs: 8000}, []sensor.EventType{E}},
		{"lingers, then goes back", sim.Visit{AtMs: 2000, Dir: 1, Behaviour: sim.LingerBack, StayMs: 8000}, nil},
		{"lingers, then goes out", sim.Visit{AtMs: 2000, Dir: -1, Behaviour: sim.LingerCross, StayMs: 5000}, []sensor.EventType{X}},
		{"child of 0.9 m", sim.Visit{AtMs: 2000, Dir: 1, HeightMM: 900}, []sensor.EventType{E}},
		{"child of 1.1 m running out", sim.Visit{AtMs: 2000, Dir: -1, HeightMM: 1100, SpeedMMs: 3000}, []sensor.EventType{X}},
		{"runner", sim.Visit{AtMs: 2000, Dir: 1, SpeedMMs: 3500}, []sensor.EventType{E}},
		{"dawdler", sim.Visit{AtMs: 2000, Dir: -1, SpeedMMs: 400}, []sensor.EventType{X}},
		{"tall adult", sim.Visit{AtMs: 2000, Dir: 1, HeightMM: 1950}, []sensor.EventType{E}},
	} {
		for _, kind := range peopleKinds {
			t.Run(c.name+"/"+string(kind), func(t *testing.T) {
				ev := events(t, world(t, c.visit), kind)
				if got := types(ev); !equal(got, c.want) {
					t.Errorf("events %v, want %v", got, c.want)
				}
				for _, e := range ev {
					if e.Sensor != 3 {
						t.Errorf("event for sensor %d, want 3", e.Sensor)
					}
				}
			})
		}
	}
}

// People in single file, the next already under the sensor while the one
// before is still there, are each counted.
func TestSingleFile(t *testing.T) {
	var vs []sim.Visit
	for i := 0; i < 5; i++ {
		vs = append(vs, sim.Visit{AtMs: 2000, Dir: 1, SpeedMMs: 1300})
	}
	for _, kind := range peopleKinds {
		ev := events(t, world(t, vs...), kind)
		if got := types(ev); len(got) != 5 {
			t.Errorf("%s: events %v, want 5 entries", kind, got)
		}
	}
}

func TestPasserbyRoleCountsBothWays(t *testing.T) {
	c := sim.DefaultConfig()
	c.Line, c.DurationMs = sim.Storefront, 30000
	c.Visits = []sim.Visit{{AtMs: 1000, Dir: 1}, {AtMs: 8000, Dir: -1}, {AtMs: 16000, Behaviour: sim.UTurn, TurnMM: 40}}
	w, err := sim.New(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair, sensor.KindPulse} {
		got := types(events(t, w, kind))
		if !equal(got, []sensor.EventType{sensor.Passerby, sensor.Passerby}) {
			t.Errorf("%s: events %v, want two passers-by", kind, got)
		}
	}
}

// tofFeed feeds hand-made ToF readings: a learning phase of floor readings,
// then the given values alternating z0, z1 every 25 ms.
func tofFeed(t *testing.T, d detect.Detector, vals [][2]int64) ([]sensor.Event, int64) {
	t.Helper()
	var ev []sensor.Event
	tm := int64(0)
	feed := func(z int, v int64) {
		ev = d.Feed(sensor.Reading{TMs: tm, Sensor: 0, Channel: z, Value: v}, ev)
		tm += 25
	}
	for i := 0; i < 40; i++ {
		feed(0, 2600+int64(i%3))
		feed(1, 2598+int64(i%5))
	}
	for _, p := range vals {
		feed(0, p[0])
		feed(1, p[1])
	}
	for i := 0; i < 40; i++ {
		feed(0, 2600)
		feed(1, 2600)
	}
	return d.Flush(tm+10000, ev), tm
}

func TestToFGlitchesAndInvalidReadings(t *testing.T) {
	floor := [2]int64{2600, 2600}
	walk := [][2]int64{{900, 2600}, {900, 2600}, {900, 2600}, {900, 900}, {900, 900}, {2600, 900}, {2600, 900}, {2600, 900}}
	for _, c := range []struct {
		name string
		vals [][2]int64
		want int
	}{
		{"a single glitch in z0", [][2]int64{floor, {700, 2600}, floor}, 0},
		{"a single glitch in each zone, in order", [][2]int64{floor, {700, 2600}, {2600, 700}, floor}, 0},
		{"invalid readings only", [][2]int64{{-1, -1}, {-1, -1}, {-1, -1}, {-1, 2600}, {2600, -1}}, 0},
		{"a person walking in", walk, 1},
		{"a person walking in, every other reading invalid", [][2]int64{{900, -1}, {-1, 2600}, {900, -1}, {-1, 900}, {900, -1}, {-1, 900}, {2600, -1}, {2600, 900}}, 1},
		{"a person walking in through a glitch", append([][2]int64{floor, {2600, 600}}, walk...), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDetector(t, sensor.KindToF2Zone, sensor.RoleEntrance)
			ev, _ := tofFeed(t, d, c.vals)
			if len(ev) != c.want {
				t.Errorf("%d events %v, want %d", len(ev), types(ev), c.want)
			}
			for _, e := range ev {
				if e.Type != sensor.Entry {
					t.Errorf("event %v, want entry", e.Type)
				}
			}
		})
	}
}

func TestToFHealthAndBaseline(t *testing.T) {
	d := newDetector(t, sensor.KindToF2Zone, sensor.RoleEntrance)
	h := d.(detect.HealthReporter).Health()
	if h.Learned || h.LastTMs != -1 {
		t.Errorf("fresh detector: %+v, want not learned, no reading", h)
	}
	_, last := tofFeed(t, d, [][2]int64{{-1, -1}, {-1, -1}})
	h = d.(detect.HealthReporter).Health()
	if !h.Learned || h.BaselineMM[0] < 2590 || h.BaselineMM[0] > 2610 || h.BaselineMM[1] < 2590 || h.BaselineMM[1] > 2610 {
		t.Errorf("baselines %v learned=%v, want about 2600", h.BaselineMM, h.Learned)
	}
	if h.Readings != 164 || h.Invalid != 4 || h.LastTMs != last-25 {
		t.Errorf("health %+v, want 164 readings, 4 invalid, last at %d", h, last-25)
	}
	// Calibrated: known at once, and a floor that differs is not relearned.
	d = newDetector(t, sensor.KindToF2Zone, sensor.RoleEntrance, [2]string{"baseline_z0_mm", "2500"}, [2]string{"baseline_z1_mm", "2510"})
	if h := d.(detect.HealthReporter).Health(); !h.Learned || h.BaselineMM != [2]int{2500, 2510} {
		t.Errorf("calibrated: %+v", h)
	}
	// Before the baseline is learned nothing is counted.
	d = newDetector(t, sensor.KindToF2Zone, sensor.RoleEntrance)
	var ev []sensor.Event
	for i, v := range []int64{900, 900, 900, 900, 2600, 2600, 2600, 2600} {
		ev = d.Feed(sensor.Reading{TMs: int64(i) * 25, Channel: i & 1, Value: v}, ev)
	}
	if len(ev) != 0 {
		t.Errorf("events while learning: %v", types(ev))
	}
}

// The floor moves (a mat laid down): the learned baseline follows, and the
// detector still counts.
func TestToFBaselineRelearns(t *testing.T) {
	d := newDetector(t, sensor.KindToF2Zone, sensor.RoleEntrance, [2]string{"max_presence_ms", "5000"})
	var ev []sensor.Event
	tm := int64(0)
	feed := func(v0, v1 int64, n int) {
		for i := 0; i < n; i++ {
			ev = d.Feed(sensor.Reading{TMs: tm, Channel: 0, Value: v0}, ev)
			ev = d.Feed(sensor.Reading{TMs: tm + 25, Channel: 1, Value: v1}, ev)
			tm += 50
		}
	}
	feed(2600, 2600, 40)
	feed(2200, 2200, 200) // a box under the sensor for 10 s: an obstruction
	h := d.(detect.HealthReporter).Health()
	if h.BaselineMM[0] > 2250 || h.BaselineMM[1] > 2250 {
		t.Fatalf("baselines %v after 10 s of a box at 2200 mm", h.BaselineMM)
	}
	feed(2200, 2200, 20)
	feed(500, 2200, 3)
	feed(500, 500, 2)
	feed(2200, 500, 3)
	feed(2200, 2200, 10)
	if got := types(ev); !equal(got, []sensor.EventType{sensor.Entry}) {
		t.Errorf("events %v, want one entry over the new floor", got)
	}
}

func TestBeamDebounceAndFlush(t *testing.T) {
	d := newDetector(t, sensor.KindBeamPair, sensor.RoleEntrance)
	var ev []sensor.Event
	seq := []struct {
		t      int64
		ch     int
		v      int64
		events int
	}{
		{100, 1, 1, 0}, {102, 1, 0, 0}, // a 2 ms glitch on b: ignored
		{1000, 0, 1, 0}, {1040, 1, 1, 0}, {1200, 0, 0, 0}, {1203, 0, 1, 0}, {1205, 0, 0, 0}, // a, ab, b (with a dropout)
		{1240, 1, 0, 0}, // both clear: certain only bridge_ms (45) later
	}
	for _, s := range seq {
		ev = d.Feed(sensor.Reading{TMs: s.t, Channel: s.ch, Value: s.v}, ev)
		if len(ev) != s.events {
			t.Fatalf("after %+v: %d events", s, len(ev))
		}
	}
	if ev = d.Flush(1284, ev); len(ev) != 0 {
		t.Fatalf("flushed before the release elapsed: %v", types(ev))
	}
	ev = d.Flush(1300, ev)
	if got := types(ev); !equal(got, []sensor.EventType{sensor.Entry}) || ev[0].TMs != 1285 {
		t.Fatalf("events %v at %v, want one entry at 1285", got, ev)
	}
}

func TestPulse(t *testing.T) {
	feed := func(d detect.Detector, rs [][3]int64) []sensor.Event {
		var ev []sensor.Event
		for _, r := range rs {
			ev = d.Feed(sensor.Reading{TMs: r[0], Channel: int(r[1]), Value: r[2]}, ev)
		}
		return d.Flush(1e6, ev)
	}
	d := newDetector(t, sensor.KindPulse, sensor.RoleEntrance)
	ev := feed(d, [][3]int64{
		{100, 0, 1}, {101, 0, 0}, {103, 0, 1}, {200, 0, 0}, {203, 0, 1}, {204, 0, 0}, // bounce at both edges: one entry
		{500, 1, 1}, {600, 1, 0}, // one exit
		{700, 1, 1}, {710, 1, 0}, // 10 ms: too short
		{800, 2, 1}, {900, 2, 0}, // a pass pulse says nothing at an entrance
	})
	if got := types(ev); !equal(got, []sensor.EventType{sensor.Entry, sensor.Exit}) {
		t.Errorf("entrance: %v, want entry, exit", got)
	}
	d = newDetector(t, sensor.KindPulse, sensor.RolePasserby, [2]string{"min_pulse_ms", "5"})
	ev = feed(d, [][3]int64{{100, 2, 1}, {200, 2, 0}, {300, 0, 1}, {400, 0, 0}, {700, 1, 1}, {710, 1, 0}})
	if got := types(ev); !equal(got, []sensor.EventType{sensor.Passerby, sensor.Passerby, sensor.Passerby}) {
		t.Errorf("passerby: %v, want 3 passers-by", got)
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		kind sensor.Kind
		role sensor.Role
		kv   [][2]string
		want []string
	}{
		{sensor.KindToF2Zone, sensor.RoleEntrance, [][2]string{{"treshold_mm", "300"}}, []string{`unknown key "treshold_mm"`, "threshold_mm", "baseline_z0_mm", "max_invalid_ms"}},
		{sensor.KindToF2Zone, sensor.RoleEntrance, [][2]string{{"threshold_mm", "abc"}}, []string{"threshold_mm", `"abc"`}},
		{sensor.KindToF2Zone, sensor.RoleEntrance, [][2]string{{"threshold_mm", "10"}}, []string{"threshold_mm", `"10"`, "50 to 3000"}},
		{sensor.KindToF2Zone, sensor.RoleEntrance, [][2]string{{"hysteresis_mm", "400"}}, []string{"hysteresis_mm=400", "threshold_mm"}},
		{sensor.KindToF2Zone, sensor.RoleEntrance, [][2]string{{"baseline_z1_mm", "250"}}, []string{"baseline_z1_mm=250"}},
		{sensor.KindBeamPair, sensor.RolePasserby, [][2]string{{"min_pulse_ms", "20"}}, []string{`unknown key "min_pulse_ms"`, "debounce_ms"}},
		{sensor.KindPulse, sensor.RoleEntrance, [][2]string{{"min_pulse_ms", "-3"}}, []string{"min_pulse_ms", `"-3"`}},
	} {
		spec, err := sensor.NewSpec("door", c.kind, c.role, c.kv)
		if err != nil {
			t.Fatal(err)
		}
		_, err = detect.New(spec, 0)
		if err == nil {
			t.Errorf("%s %v: no error", c.kind, c.kv)
			continue
		}
		for _, w := range append(c.want, `"door"`) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %q does not mention %s", c.kind, c.kv, err, w)
			}
		}
	}
	// Kinds without a detector yet say so; unknown kinds are named.
	for _, k := range sensor.Kinds() {
		if detect.Supported(k) {
			continue
		}
		_, err := detect.New(sensor.Spec{ID: "x", Kind: k, Role: sensor.RoleShelf}, 0)
		if err == nil || !strings.Contains(err.Error(), "kind "+string(k)+" is not supported yet") {
			t.Errorf("%s: err = %v, want \"kind %s is not supported yet\"", k, err, k)
		}
	}
	if _, err := detect.New(sensor.Spec{ID: "x", Kind: "lidar", Role: sensor.RoleEntrance}, 0); err == nil || !strings.Contains(err.Error(), `"lidar"`) {
		t.Errorf("unknown kind: err = %v", err)
	}
	// Role check even for a hand-made spec.
	if _, err := detect.New(sensor.Spec{ID: "x", Kind: sensor.KindBeamPair, Role: sensor.RoleShelf}, 0); err == nil {
		t.Error("beam-pair as a shelf sensor: no error")
	}
	for _, k := range []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair, sensor.KindPulse} {
		if !detect.Supported(k) || len(detect.Params(k)) == 0 {
			t.Errorf("%s: not supported or no documented keys", k)
		}
	}
}

// Readings of other channels (or of a wrong channel index) are ignored.
func TestIgnoresUnknownChannels(t *testing.T) {
	for _, kind := range []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair, sensor.KindPulse} {
		d := newDetector(t, kind, sensor.RoleEntrance)
		var ev []sensor.Event
		for i := int64(0); i < 100; i++ {
			ev = d.Feed(sensor.Reading{TMs: i * 10, Channel: 7, Value: i % 2}, ev)
			ev = d.Feed(sensor.Reading{TMs: i*10 + 5, Channel: -1, Value: 500}, ev)
		}
		if ev = d.Flush(5000, ev); len(ev) != 0 {
			t.Errorf("%s: %v", kind, types(ev))
		}
	}
}
