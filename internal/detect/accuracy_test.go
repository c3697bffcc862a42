package detect_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

// counts runs the readings of one sensor kind on world w through its
// detector, flushing on a 100 ms timer of reading time as the agent does.
func counts(t testing.TB, w *sim.World, kind sensor.Kind) sim.Truth {
	t.Helper()
	return windowCounts(t, w, kind, w.Config().DurationMs)[0]
}

// windowCounts is counts per window of windowMs from 0 (events after the
// world's end fall in its last window).
func windowCounts(t testing.TB, w *sim.World, kind sensor.Kind, windowMs int64) []sim.Truth {
	t.Helper()
	spec, err := sensor.NewSpec("s", kind, w.Role(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := detect.New(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := w.Readings(kind, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	dur := w.Config().DurationMs
	got := make([]sim.Truth, (dur+windowMs-1)/windowMs)
	var ev []sensor.Event
	tally := func() {
		for _, e := range ev {
			g := &got[min(e.TMs/windowMs, int64(len(got)-1))]
			switch e.Type {
			case sensor.Entry:
				g.Entries++
			case sensor.Exit:
				g.Exits++
			case sensor.Passerby:
				g.Passersby++
			}
		}
		ev = ev[:0]
	}
	next := int64(100)
	for _, r := range rs {
		for r.TMs >= next {
			ev = d.Flush(next, ev)
			next += 100
		}
		ev = d.Feed(r, ev)
		tally()
	}
	ev = d.Flush(dur+10000, ev)
	tally()
	return got
}

func errPct(truth, got int) float64 {
	if truth == 0 {
		if got == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return 100 * math.Abs(float64(got-truth)) / float64(truth)
}

// TestAccuracy replays every named scenario (an hour each, two seeds)
// through the detectors of each kind and checks entries, exits and
// passers-by against the simulation's ground truth: within 2 %, and the
// 5-minute WAPE (the sum over 5-minute windows of |counted - true|, over
// the true total) within 5 %. The table
// it logs (go test -run TestAccuracy -v) is the accuracy report.
func TestAccuracy(t *testing.T) {
	kinds := []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair, sensor.KindPulse}
	table := "\n| scenario | seed | kind | count | truth | counted | error | 5-min WAPE |\n|---|---|---|---|---|---|---|---|\n"
	names, seeds := sim.ScenarioNames(), []uint64{1, 2}
	if testing.Short() {
		names, seeds = []string{"mixed-hour"}, seeds[:1]
	}
	for _, name := range names {
		if strings.HasPrefix(name, "doorway") {
			continue // people merge there: TestDoorwayAccuracy judges them
		}
		for _, seed := range seeds {
			cfg, err := sim.Scenario(name, seed)
			if err != nil {
				t.Fatal(err)
			}
			w, err := sim.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var truth []sim.Truth
			for from := int64(0); from < cfg.DurationMs; from += doorwayWindowMs {
				truth = append(truth, w.Truth(from, from+doorwayWindowMs))
			}
			for _, kind := range kinds {
				t.Run(fmt.Sprintf("%s/seed%d/%s", name, seed, kind), func(t *testing.T) {
					got := windowCounts(t, w, kind, doorwayWindowMs)
					for _, c := range countsOf(cfg.Line) {
						// No one merges here: the band is the truth itself.
						s := judge(c.of(truth), c.of(truth), c.of(got))
						e := errPct(s.total.truth, s.got)
						table += fmt.Sprintf("| %s | %d | %s | %s | %d | %d | %.2f%% | %.2f%% |\n", name, seed, kind, c.what, s.total.truth, s.got, e, s.wape)
						if e > maxTotalErrPct || s.wape > maxWAPEPct {
							t.Errorf("%s: truth %d, counted %d: error %.2f%% (max %g%%), 5-min WAPE %.2f%% (max %g%%)", c.what, s.total.truth, s.got, e, maxTotalErrPct, s.wape, maxWAPEPct)
						}
					}
				})
			}
		}
	}
	t.Log(table)
}
