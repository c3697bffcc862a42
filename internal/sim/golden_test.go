package sim

import (
	"bufio"
	"crypto/sha256"
	"flag"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.txt from the current model")

// goldenSeeds are the seeds every named scenario is rendered with.
var goldenSeeds = []uint64{1, 7}

// TestGoldenOutputs pins the model: every named scenario of every world
// (door/storefront, shelf, NFC), rendered with WriteTrace and asked for its
// ground truth, must hash to the values in testdata/golden.txt, as must the
// scenario tables and the errors of bad names and configs. A change to
// what the simulator produces fails here; refactoring must not.
func TestGoldenOutputs(t *testing.T) {
	got := goldenLines(t)
	const path = "testdata/golden.txt"
	if *updateGolden {
		if err := os.WriteFile(path, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d golden lines, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("golden line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

func goldenLines(t *testing.T) []string {
	t.Helper()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var out []string
	add := func(key string, f func(w io.Writer) error) {
		h := sha256.New()
		bw := bufio.NewWriter(h)
		if err := f(bw); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %x", key, sum(h)))
	}
	text := func(key string, s string) { out = append(out, key+" "+s) }

	// Scenario tables and lookups.
	for _, n := range ScenarioNames() {
		c, err := Scenario(n, 3)
		if err != nil {
			t.Fatal(err)
		}
		text("door-scenario/"+n, fmt.Sprintf("%q %+v", ScenarioDoc(n), c))
	}
	for _, n := range ShelfScenarioNames() {
		c, err := ShelfScenario(n, 3)
		if err != nil {
			t.Fatal(err)
		}
		text("shelf-scenario/"+n, fmt.Sprintf("%q %+v", ShelfScenarioDoc(n), c))
	}
	for _, n := range NFCScenarioNames() {
		c, err := NFCScenario(n, 3)
		if err != nil {
			t.Fatal(err)
		}
		text("nfc-scenario/"+n, fmt.Sprintf("%q %+v", NFCScenarioDoc(n), c))
	}
	text("doc/unknown", fmt.Sprintf("%q %q %q", ScenarioDoc("nope"), ShelfScenarioDoc("nope"), NFCScenarioDoc("nope")))
	_, e1 := Scenario("nope", 1)
	_, e2 := ShelfScenario("nope", 1)
	_, e3 := NFCScenario("nope", 1)
	text("err/unknown", fmt.Sprintf("%v | %v | %v", e1, e2, e3))

	// Validation errors.
	for i, set := range []func(c *Config){
		func(c *Config) { c.DurationMs = 0 },
		func(c *Config) { c.Line = 9 },
		func(c *Config) { c.GapMinMs, c.GapMaxMs = 5, 1 },
		func(c *Config) { c.PChild = 1.5 },
		func(c *Config) { c.PUTurn, c.PLingerBack = 0.6, 0.6 },
		func(c *Config) { c.PFast, c.PSlow = 0.6, 0.6 },
		func(c *Config) { c.Visits = []Visit{{}, {HeightMM: 10}} },
		func(c *Config) { c.PGroup = math.NaN() },
		func(c *Config) { c.ArrivalsPerMin = math.NaN() },
		func(c *Config) { c.SpeedMinMMs, c.SpeedMaxMMs = 900, 800 },
		func(c *Config) { c.DepthMinMM = 50 },
		func(c *Config) { c.PInteriorGaps = 1.5 },
		func(c *Config) { c.PTailgate, c.PSideBySide = 0.6, 0.6 },
	} {
		c := DefaultConfig()
		set(&c)
		text(fmt.Sprintf("err/config/%d", i), fmt.Sprint(c.Validate()))
	}
	for i, set := range []func(c *ShelfConfig){
		func(c *ShelfConfig) { c.DwellMinMs = 0 },
		func(c *ShelfConfig) { c.DwellSigma = 4 },
		func(c *ShelfConfig) { c.StandMaxMM = 1700 },
		func(c *ShelfConfig) { c.PBackToBack, c.POverlap = 0.7, 0.5 },
		func(c *ShelfConfig) { c.PInvalid = 2 },
		func(c *ShelfConfig) { c.DropoutsPerMin = -1 },
		func(c *ShelfConfig) { c.MotionGapMs = 1 },
		func(c *ShelfConfig) { c.PStill = math.NaN() },
		func(c *ShelfConfig) { c.PoseShiftsPerMin = math.NaN() },
		func(c *ShelfConfig) { c.PIRFalsePerMin = 121 },
	} {
		c := DefaultShelfConfig()
		set(&c)
		text(fmt.Sprintf("err/shelf-config/%d", i), fmt.Sprint(c.Validate()))
	}
	for i, set := range []func(c *NFCConfig){
		func(c *NFCConfig) { c.PFlicker = 2 },
		func(c *NFCConfig) { c.PMissPoll = 0.95 },
		func(c *NFCConfig) { c.TapsPerMin = 700 },
		func(c *NFCConfig) { c.TailMs = c.DurationMs },
		func(c *NFCConfig) { c.HoldMinMs, c.HoldMaxMs = 5, 1 },
		func(c *NFCConfig) { c.RepeatMs = -1 },
		func(c *NFCConfig) { c.PReturnLater = math.NaN() },
		func(c *NFCConfig) { c.NearMissPerMin = math.NaN() },
	} {
		c := DefaultNFCConfig()
		set(&c)
		text(fmt.Sprintf("err/nfc-config/%d", i), fmt.Sprint(c.Validate()))
	}

	// Worlds: traces and ground truth.
	doorSensors := []TraceSensor{
		{ID: "tof", Kind: sensor.KindToF2Zone},
		{ID: "beams", Kind: sensor.KindBeamPair, Params: [][2]string{{"x", "1"}}},
		{ID: "counter", Kind: sensor.KindPulse},
	}
	shelfSensors := []TraceSensor{
		{ID: "shelf-a", Kind: sensor.KindToFPresence},
		{ID: "shelf-a-pir", Kind: sensor.KindPIR, Params: [][2]string{{"merge_gap_ms", "6000"}}},
		{ID: "shelf-b", Kind: sensor.KindToFPresence, Params: [][2]string{{"dwell_min_ms", "5000"}}},
		{ID: "shelf-b-pir", Kind: sensor.KindPIR, Params: [][2]string{{"hold_ms", "2000"}}},
	}
	for _, seed := range goldenSeeds {
		for _, n := range ScenarioNames() {
			key := fmt.Sprintf("door/%s/%d", n, seed)
			w := mustWorld(t, n, seed)
			add(key+"/trace", func(out io.Writer) error { return w.WriteTrace(out, start, doorSensors...) })
			add(key+"/truth", func(out io.Writer) error {
				dur := w.Config().DurationMs
				for from := int64(0); from < dur; from += 300_000 {
					fmt.Fprintf(out, "%d %+v\n", from, w.Truth(from, from+300_000))
				}
				fmt.Fprintf(out, "all %+v\n", w.Truth(0, dur))
				for _, p := range w.People() {
					fmt.Fprintf(out, "%d %v %d %d %v %v %d\n", p.Dir, p.Behaviour, p.HeightMM, p.SpeedMMs, p.Child, p.Flicker, p.CrossMs())
				}
				return nil
			})
			add(key+"/separable", func(out io.Writer) error {
				dur := w.Config().DurationMs
				for from := int64(0); from < dur; from += 300_000 {
					fmt.Fprintf(out, "%d %+v\n", from, w.Separable(from, from+300_000))
				}
				for _, p := range w.People() {
					fmt.Fprintf(out, "%v ", p.Follows)
				}
				return nil
			})
		}
		for _, n := range ShelfScenarioNames() {
			key := fmt.Sprintf("shelf/%s/%d", n, seed)
			s := shelfOf(t, n, seed)
			c := s.Config()
			add(key+"/trace", func(out io.Writer) error { return s.WriteTrace(out, start, shelfSensors...) })
			add(key+"/truth", func(out io.Writer) error {
				for from := int64(0); from < c.DurationMs; from += 300_000 {
					fmt.Fprintf(out, "%d %+v\n", from, s.ShelfTruth(from, from+300_000))
				}
				fmt.Fprintf(out, "all %+v\n", s.ShelfTruth(0, c.DurationMs))
				for _, p := range s.Shoppers() {
					fmt.Fprintf(out, "%d %d %d %v %v %v\n", p.ArriveMs, p.LeaveMs, p.DistMM, p.Browser, p.Overlap, p.BackToBack)
				}
				fmt.Fprintln(out, s.PIRTriggers())
				return nil
			})
		}
		for _, n := range NFCScenarioNames() {
			key := fmt.Sprintf("nfc/%s/%d", n, seed)
			c, err := NFCScenario(n, seed)
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewNFCWorld(c)
			if err != nil {
				t.Fatal(err)
			}
			add(key+"/trace", func(out io.Writer) error { return w.WriteTrace(out, start) })
			add(key+"/trace-merge", func(out io.Writer) error { return w.WriteTrace(out, start, [2]string{"merge_ms", "700"}) })
			add(key+"/truth", func(out io.Writer) error {
				_, err := fmt.Fprintf(out, "%+v %d\n", w.Truth(), w.Truth().TotalTaps())
				return err
			})
		}
	}
	return out
}

func sum(h hash.Hash) []byte { return h.Sum(nil) }
