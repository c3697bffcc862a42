package sim

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/trace"
)

func clean(visits ...Visit) Config {
	c := DefaultConfig()
	c.Name, c.DurationMs = "test", 60000
	c.NoiseMM, c.PInvalidEmpty, c.PInvalidPerson, c.PGlitch = 0, 0, 0, 0
	c.BeamGlitchPerMin, c.PBounce, c.PulseGlitchPerMin = 0, 0, 0
	c.Visits = visits
	return c
}

func build(t *testing.T, c Config) *World {
	t.Helper()
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestScenariosBuildAndAreDeterministic(t *testing.T) {
	for _, name := range ScenarioNames() {
		c, err := Scenario(name, 7)
		if err != nil {
			t.Fatal(err)
		}
		if ScenarioDoc(name) == "" {
			t.Errorf("%s: no description", name)
		}
		a, b := build(t, c), build(t, c)
		ra, _ := a.Readings(sensor.KindToF2Zone, 0, nil)
		rb, _ := b.Readings(sensor.KindToF2Zone, 0, nil)
		if len(ra) != len(rb) {
			t.Fatalf("%s: %d vs %d readings from the same config", name, len(ra), len(rb))
		}
		for i := range ra {
			if !same(ra[i], rb[i]) {
				t.Fatalf("%s: reading %d differs: %+v vs %+v", name, i, ra[i], rb[i])
			}
		}
		tr := a.Truth(0, c.DurationMs)
		if tr.Entries+tr.Exits+tr.Passersby < 100 {
			t.Errorf("%s: only %+v crossings in an hour: too few for a 2%% bound", name, tr)
		}
		c.Seed++
		if d := build(t, c).Truth(0, c.DurationMs); d == tr {
			t.Errorf("%s: seeds 7 and 8 give the same truth %+v", name, tr)
		}
	}
	if _, err := Scenario("nope", 1); err == nil || !strings.Contains(err.Error(), "mixed-hour") {
		t.Errorf("unknown scenario: err = %v, want one listing the known ones", err)
	}
}

// The sensors' values are pure functions of time: sampling in any order,
// any number of times, gives the same values.
func TestSamplingOrderDoesNotMatter(t *testing.T) {
	c, _ := Scenario("noise", 3)
	w := build(t, c)
	const n = 4000
	fwd := make([]int, n)
	for i := 0; i < n; i++ {
		fwd[i] = w.ZoneDistance(i&1, int64(i)*25)
	}
	for i := n - 1; i >= 0; i-- {
		if got := w.ZoneDistance(i&1, int64(i)*25); got != fwd[i] {
			t.Fatalf("t=%d: %d forward, %d backward", i*25, fwd[i], got)
		}
	}
}

func TestZoneDistanceSeesHeads(t *testing.T) {
	c := clean(Visit{AtMs: 1000, Dir: 1, HeightMM: 1800, SpeedMMs: 1000})
	w := build(t, c)
	if d := w.ZoneDistance(0, 0); d != c.MountMM {
		t.Errorf("empty zone: %d mm, want the floor %d", d, c.MountMM)
	}
	// Walking at 1 m/s from x=-1500 at t=1000: under z0 (x=-100) at t=2400,
	// under z1 (x=+100) at t=2600.
	if d := w.ZoneDistance(0, 2400); d != c.MountMM-1800 {
		t.Errorf("z0 with the head under it: %d, want %d", d, c.MountMM-1800)
	}
	if d := w.ZoneDistance(1, 2400); d != c.MountMM {
		t.Errorf("z1 while the person is under z0: %d, want the floor", d)
	}
	if d := w.ZoneDistance(1, 2600); d != c.MountMM-1800 {
		t.Errorf("z1 with the head under it: %d, want %d", d, c.MountMM-1800)
	}
	if d := w.ZoneDistance(2, 2400); d != -1 {
		t.Errorf("zone 2: %d, want -1", d)
	}
	// A child of 1.0 m is seen too, further away.
	w = build(t, clean(Visit{AtMs: 1000, Dir: 1, HeightMM: 1000, SpeedMMs: 1000}))
	if d := w.ZoneDistance(0, 2400); d != c.MountMM-1000 {
		t.Errorf("child's head: %d, want %d", d, c.MountMM-1000)
	}
}

func TestBeamsAndTruth(t *testing.T) {
	w := build(t, clean(
		Visit{AtMs: 1000, Dir: 1, HeightMM: 1700, SpeedMMs: 1000},
		Visit{AtMs: 10000, Dir: -1, HeightMM: 1700, SpeedMMs: 1000},
		Visit{AtMs: 20000, Dir: 1, Behaviour: UTurn, TurnMM: 50},
		Visit{AtMs: 30000, Dir: 1, Behaviour: LingerBack, StayMs: 3000},
		Visit{AtMs: 40000, Dir: -1, Behaviour: LingerCross, StayMs: 3000},
	))
	// The first walker's hips (±130 mm) cut beam a (x=-30) from x=-160 to
	// x=+100, i.e. t=2340..2600 at 1 m/s.
	for _, c := range []struct {
		beam    int
		t       int64
		blocked bool
	}{{0, 2330, false}, {0, 2350, true}, {1, 2350, false}, {1, 2500, true}, {0, 2600, false}, {1, 2650, true}, {1, 2700, false}} {
		if got := w.BeamBlocked(c.beam, c.t); got != c.blocked {
			t.Errorf("beam %d at %d: blocked=%v, want %v", c.beam, c.t, got, c.blocked)
		}
	}
	if got, want := w.Truth(0, 60000), (Truth{Entries: 1, Exits: 2}); got != want {
		t.Errorf("truth %+v, want %+v (U-turn and lingerer going back count nothing)", got, want)
	}
	if got := w.Truth(0, 5000); got != (Truth{Entries: 1}) {
		t.Errorf("truth of the first 5 s: %+v, want one entry", got)
	}
	// The counter pulses once per crossing on its line.
	rs, _ := w.Readings(sensor.KindPulse, 0, nil)
	var on [3]int
	for _, r := range rs {
		if r.Value == 1 {
			on[r.Channel]++
		}
	}
	if on != [3]int{1, 2, 0} {
		t.Errorf("pulses per line in/out/pass = %v, want [1 2 0]", on)
	}
}

func TestStorefrontCountsPassersby(t *testing.T) {
	c := clean(Visit{AtMs: 1000, Dir: 1}, Visit{AtMs: 9000, Dir: -1}, Visit{AtMs: 18000, Behaviour: UTurn})
	c.Line = Storefront
	w := build(t, c)
	if got := w.Truth(0, c.DurationMs); got != (Truth{Passersby: 2}) {
		t.Errorf("truth %+v, want 2 passers-by", got)
	}
	if w.Role() != sensor.RolePasserby {
		t.Errorf("role %s, want passerby", w.Role())
	}
}

func TestDoorKeepsPeopleApart(t *testing.T) {
	c, _ := Scenario("single-file", 1)
	w := build(t, c)
	ps := w.People()
	for i := 1; i < len(ps); i++ {
		a, b := ps[i-1], ps[i]
		if a.Dir != b.Dir || a.Behaviour != Cross || b.Behaviour != Cross {
			if b.tIn < a.tOut {
				t.Fatalf("person %d enters at %d while person %d (other way or not walking through) is in until %d", i, b.tIn, i-1, a.tOut)
			}
			continue
		}
		// Same way: never closer than a body plus the minimum gap.
		for tm := b.tIn; tm <= a.tOut; tm += 10 {
			ft := float64(tm)
			if gap := math.Abs(a.x(ft) - b.x(ft)); gap < personDepth+minGapMM-1 {
				t.Fatalf("persons %d and %d only %.0f mm apart at %d", i-1, i, gap, tm)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.DurationMs = 0 }, "DurationMs"},
		{func(c *Config) { c.PChild = 1.5 }, "PChild"},
		{func(c *Config) { c.MountMM = 900 }, "MountMM"},
		{func(c *Config) { c.PUTurn, c.PLingerBack = 0.7, 0.5 }, "PUTurn+PLingerCross+PLingerBack"},
		{func(c *Config) { c.Visits = []Visit{{Dir: 2}} }, "Visits[0].Dir"},
		{func(c *Config) { c.Visits = []Visit{{}, {TurnMM: 400}} }, "Visits[1].TurnMM"},
	} {
		cfg := DefaultConfig()
		c.set(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want one naming %s", err, c.want)
		}
	}
}

// The rendered trace is a valid trace-v1 file that reads back to exactly
// the readings the world delivers.
func TestWriteTraceReadsBack(t *testing.T) {
	c, _ := Scenario("mixed-hour", 2)
	c.DurationMs = 120000
	w := build(t, c)
	sensors := []TraceSensor{
		{ID: "door", Kind: sensor.KindToF2Zone},
		{ID: "door-beam", Kind: sensor.KindBeamPair, Params: [][2]string{{"debounce_ms", "6"}}},
		{ID: "door-pulse", Kind: sensor.KindPulse},
	}
	var buf bytes.Buffer
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if err := w.WriteTrace(&buf, start, sensors...); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "# edge-agent-trace v1\n# start 2026-03-02T09:00:00Z\n") {
		t.Fatalf("header: %q", buf.String()[:80])
	}
	r, err := trace.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if !h.Start.Equal(start) || len(h.Sensors) != 3 || h.Sensors[1].Params["debounce_ms"] != "6" || h.Sensors[0].Role != sensor.RoleEntrance {
		t.Fatalf("header read back: %+v", h)
	}
	var want [3][]sensor.Reading
	for i, s := range sensors {
		want[i], _ = w.Readings(s.Kind, i, nil)
	}
	var got [3][]sensor.Reading
	var rd sensor.Reading
	last := int64(-1)
	for {
		err := r.Next(&rd)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rd.TMs < last {
			t.Fatalf("t_ms goes back: %d after %d", rd.TMs, last)
		}
		last = rd.TMs
		got[rd.Sensor] = append(got[rd.Sensor], sensor.Reading{TMs: rd.TMs, Sensor: rd.Sensor, Channel: rd.Channel, Value: rd.Value})
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: %d readings read back, %d written", sensors[i].ID, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !same(got[i][j], want[i][j]) {
				t.Fatalf("%s reading %d: %+v, want %+v", sensors[i].ID, j, got[i][j], want[i][j])
			}
		}
	}
	// ToF zones alternate; beams list only changes.
	for j, x := range want[0] {
		if x.Channel != j&1 || x.TMs != int64(j*c.ToFPeriodMs) {
			t.Fatalf("tof reading %d: %+v, want zone %d at %d", j, x, j&1, j*c.ToFPeriodMs)
		}
	}
	level := [2]int64{}
	for _, x := range want[1] {
		if x.Value == level[x.Channel] {
			t.Fatalf("beam reading %+v repeats the level", x)
		}
		level[x.Channel] = x.Value
	}
	if err := w.WriteTrace(io.Discard, start, TraceSensor{ID: "bad id", Kind: sensor.KindPulse}); err == nil {
		t.Error("WriteTrace accepted sensor id \"bad id\"")
	}
	if _, err := w.Readings(sensor.KindNFCPlate, 0, nil); err == nil {
		t.Error("Readings of nfc-plate: no error")
	}
}

func same(a, b sensor.Reading) bool {
	return a.TMs == b.TMs && a.Sensor == b.Sensor && a.Channel == b.Channel && a.Value == b.Value
}
