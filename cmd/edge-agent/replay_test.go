package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
	"github.com/omo-edge/edge-agent/internal/trace"
)

var traceStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// storeTrace writes a simulated store to a trace file: a VL53L1X and a
// beam pair over the same (mixed-hour) door, and a beam pair on the
// storefront. It returns the path, the number of readings and the truth.
func storeTrace(t testing.TB, minutes int, seed uint64) (path string, n int, door, street sim.Truth) {
	t.Helper()
	dc, err := sim.Scenario("mixed-hour", seed)
	if err != nil {
		t.Fatal(err)
	}
	dc.DurationMs = int64(minutes) * 60_000
	sc, err := sim.Scenario("storefront", seed+1)
	if err != nil {
		t.Fatal(err)
	}
	sc.DurationMs = dc.DurationMs
	sc.ArrivalsPerMin = 12
	dw, err := sim.New(dc)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string, k sensor.Kind, r sensor.Role) sensor.Spec {
		s, err := sensor.NewSpec(id, k, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	h := trace.Header{Start: traceStart, Sensors: []sensor.Spec{
		mk("door", sensor.KindToF2Zone, sensor.RoleEntrance),
		mk("door-beam", sensor.KindBeamPair, sensor.RoleEntrance),
		mk("street", sensor.KindBeamPair, sensor.RolePasserby),
	}}
	var rs []sensor.Reading
	if rs, err = dw.Readings(sensor.KindToF2Zone, 0, rs); err != nil {
		t.Fatal(err)
	}
	if rs, err = dw.Readings(sensor.KindBeamPair, 1, rs); err != nil {
		t.Fatal(err)
	}
	if rs, err = sw.Readings(sensor.KindBeamPair, 2, rs); err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].TMs < rs[j].TMs })
	path = filepath.Join(t.TempDir(), "store.trace")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	w, err := trace.NewWriter(bw, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return path, len(rs), dw.Truth(0, dc.DurationMs), sw.Truth(0, dc.DurationMs)
}

type summaryLine struct {
	Type      string                      `json:"type"`
	Start     string                      `json:"start"`
	End       string                      `json:"end"`
	Sensors   map[string]map[string]int64 `json:"sensors"`
	EntryRate *float64                    `json:"entry_rate"`
}

func lastLine(t *testing.T, out string) summaryLine {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s summaryLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil || s.Type != "summary" {
		t.Fatalf("last line is not a summary: %v %q", err, lines[len(lines)-1])
	}
	return s
}

// Replay of a simulated hour counts entries, exits and passers-by within 2%
// of the simulation's ground truth, with both door sensors.
func TestReplayAccuracyAgainstTruth(t *testing.T) {
	path, n, door, street := storeTrace(t, 60, 11)
	out, errOut, code := run(t, "replay", "--trace", path)
	if code != 0 {
		t.Fatalf("replay: %d %s", code, errOut)
	}
	s := lastLine(t, out)
	within := func(what string, got, want int64) {
		t.Helper()
		e := 0.0
		if want > 0 {
			e = float64(got-want) / float64(want) * 100
		}
		t.Logf("%-18s truth %4d counted %4d error %+5.1f%%", what, want, got, e)
		if e > 2 || e < -2 {
			t.Errorf("%s: %d counted, %d true: off by %.1f%% (> 2%%)", what, got, want, e)
		}
	}
	within("door (ToF) entries", s.Sensors["door"]["entries"], int64(door.Entries))
	within("door (ToF) exits", s.Sensors["door"]["exits"], int64(door.Exits))
	within("door (beam) entries", s.Sensors["door-beam"]["entries"], int64(door.Entries))
	within("door (beam) exits", s.Sensors["door-beam"]["exits"], int64(door.Exits))
	within("passers-by", s.Sensors["street"]["passersby"], int64(street.Passersby))
	t.Logf("%d readings; entry rate %v", n, *s.EntryRate)
	// Every window's messages come before the summary: 60 one-minute
	// windows of 3 sensors + the store.
	if got := strings.Count(out, `"type":"sensor_window"`); got != 60*3 {
		t.Errorf("%d sensor windows, want 180", got)
	}
	if got := strings.Count(out, `"type":"store_window"`); got != 60 {
		t.Errorf("%d store windows, want 60", got)
	}
}

// The replay output of a short fixed trace is stable (golden file).
func TestReplayGolden(t *testing.T) {
	path, _, _, _ := storeTrace(t, 3, 5)
	out, errOut, code := run(t, "replay", "--trace", path, "--window", "1m")
	if code != 0 {
		t.Fatalf("replay: %d %s", code, errOut)
	}
	golden(t, "replay/store-3min.golden", out)
}

// A bad trace exits 3 naming the line, and prints no summary.
func TestReplayBadTrace(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"decreasing": {"# edge-agent-trace v1\n# start 2026-03-02T09:00:00Z\n# sensor door kind=beam-pair role=entrance\nt_ms,sensor,channel,value\n10,door,a,1\n5,door,a,0\n", "line 6"},
		"undeclared": {"# edge-agent-trace v1\n# start 2026-03-02T09:00:00Z\n# sensor door kind=beam-pair role=entrance\nt_ms,sensor,channel,value\n10,dor,a,1\n", "line 5"},
		"bad key":    {"# edge-agent-trace v1\n# start 2026-03-02T09:00:00Z\n# sensor door kind=tof-2zone role=entrance colour=red\nt_ms,sensor,channel,value\n10,door,z0,2400\n", "line 3"},
		"no magic":   {"t_ms,sensor,channel,value\n", "line 1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".trace")
			if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := run(t, "replay", "--trace", p)
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d", code, exitBadInput)
			}
			if !strings.Contains(errOut, c.want) || !strings.Contains(errOut, p) {
				t.Fatalf("error %q does not name %s of %s", errOut, c.want, p)
			}
			if strings.Contains(out, "summary") {
				t.Fatalf("a summary was printed for a bad trace: %s", out)
			}
		})
	}
}

// BenchmarkReplay measures the whole replay: parse, detect, aggregate,
// encode, on a simulated hour of a store (three sensors).
func BenchmarkReplay(b *testing.B) {
	path, n, _, _ := storeTrace(b, 60, 11)
	opts := &replayOptions{tracePath: path}
	b.ResetTimer()
	for range b.N {
		if err := runReplay(discard{}, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
