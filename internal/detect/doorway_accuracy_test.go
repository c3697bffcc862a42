package detect_test

import (
	"flag"
	"fmt"
	"testing"

	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

var (
	doorwaySeeds  = flag.Int("doorway.seeds", 2, "seeds (1..n) per rate of TestDoorwayAccuracy; the full sweep of docs/PERFORMANCE.md is 8")
	doorwayStress = flag.Bool("doorway.stress", false, "TestDoorwayAccuracy also runs stress variants of the door (30 % U-turns, 30 % lingerers, no pairs) at 12 a minute, judged by the looser stress bound")
)

// doorwayCase is one world family of TestDoorwayAccuracy.
type doorwayCase struct {
	name, scenario string
	rates          []float64
	set            func(c *sim.Config)
	stress         bool // judged by maxStressErrPct, and counting over the truth is reported, not failed
}

// doorwayRates are the arrivals (parties) per minute the real-doorway
// scenarios are judged at; pairs make the people a little more.
var doorwayRates = []float64{2, 5, 12, 20}

// Acceptance bounds of the real doorway (issue 8).
const (
	doorwayWindowMs = 5 * 60_000
	maxTotalErrPct  = 2.0 // every hour's total, against [separable, true]
	maxWAPEPct      = 5.0 // per 5-minute window
	// maxStressErrPct bounds the stress variants: a door where 30 % of the
	// people turn back, with hands and gaps moving the blocks' edges, lets a
	// few U-turns through as crossings (see docs/PERFORMANCE.md).
	maxStressErrPct = 5.0
)

// band is what a count is judged against: the true number of people and
// the separable one (sim.World.Separable: a tailgating or side-by-side
// pair is one). A count in [sep, truth] is exact; above truth is always
// an error.
type band struct{ sep, truth int }

// miss is how far got lies outside the band: above truth, or below sep.
func (b band) miss(got int) int {
	switch {
	case got > b.truth:
		return got - b.truth
	case got < b.sep:
		return b.sep - got
	}
	return 0
}

// score is one count (entries, exits or passers-by) of one hour.
type score struct {
	total    band
	got      int
	totalErr float64 // % of the band's nearer bound
	wape     float64 // % : sum over windows of the miss / true total
	over     bool    // counted more than the people
}

func judge(truth, sep, got []int) score {
	var s score
	var missSum int
	for i := range truth {
		s.total.truth += truth[i]
		s.total.sep += sep[i]
		s.got += got[i]
		missSum += band{sep[i], truth[i]}.miss(got[i])
	}
	if m := s.total.miss(s.got); m > 0 {
		ref := s.total.truth
		if s.got < s.total.sep {
			ref = s.total.sep
		}
		s.totalErr = 100 * float64(m) / float64(max(ref, 1))
	}
	s.wape = 100 * float64(missSum) / float64(max(s.total.truth, 1))
	s.over = s.got > s.total.truth
	return s
}

// TestDoorwayAccuracy replays the real-doorway scenarios (sim "doorway" at
// a door, "doorway-storefront" on a storefront) at 2, 5, 12 and 20 parties
// a minute, an hour per seed, through the detectors of every people-counting
// kind, and checks: each hour's total within 2 % of [separable, true] and
// never above the true number of people; the 5-minute WAPE within 5 %.
// CI runs -doorway.seeds 2 (the default); the table of docs/PERFORMANCE.md
// is `go test ./internal/detect -run TestDoorwayAccuracy -doorway.seeds 8 -v`.
func TestDoorwayAccuracy(t *testing.T) {
	rates, seeds := doorwayRates, *doorwaySeeds
	if testing.Short() {
		rates, seeds = []float64{5, 20}, 1
	}
	kinds := []sensor.Kind{sensor.KindBeamPair, sensor.KindPulse, sensor.KindToF2Zone}
	type key struct {
		scenario string
		rate     float64
		kind     sensor.Kind
		what     string
	}
	type agg struct {
		truth, sep, got     int
		worstErr, worstWAPE float64
		over                int
	}
	sum := map[key]*agg{}
	var order []key
	cases := []doorwayCase{{name: "doorway", scenario: "doorway", rates: rates}, {name: "doorway-storefront", scenario: "doorway-storefront", rates: rates}}
	if *doorwayStress {
		noPairs := func(c *sim.Config) { c.PTailgate, c.PSideBySide = 0, 0 }
		cases = append(cases,
			doorwayCase{"doorway, 30 % u-turns", "doorway", []float64{12}, func(c *sim.Config) { noPairs(c); c.PUTurn = 0.3 }, true},
			doorwayCase{"doorway, 30 % lingerers", "doorway", []float64{12}, func(c *sim.Config) { noPairs(c); c.PLingerCross, c.PLingerBack = 0.15, 0.15 }, true})
	}
	for _, dc := range cases {
		name := dc.name
		for _, rate := range dc.rates {
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				cfg, err := sim.Scenario(dc.scenario, seed)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ArrivalsPerMin = rate
				if dc.set != nil {
					dc.set(&cfg)
				}
				w, err := sim.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var truth, sep []sim.Truth
				for from := int64(0); from < cfg.DurationMs; from += doorwayWindowMs {
					truth = append(truth, w.Truth(from, from+doorwayWindowMs))
					sep = append(sep, w.Separable(from, from+doorwayWindowMs))
				}
				for _, kind := range kinds {
					t.Run(fmt.Sprintf("%s/%g/seed%d/%s", name, rate, seed, kind), func(t *testing.T) {
						got := windowCounts(t, w, kind, doorwayWindowMs)
						for _, c := range countsOf(w.Config().Line) {
							s := judge(c.of(truth), c.of(sep), c.of(got))
							k := key{name, rate, kind, c.what}
							a := sum[k]
							if a == nil {
								a = &agg{}
								sum[k] = a
								order = append(order, k)
							}
							a.truth += s.total.truth
							a.sep += s.total.sep
							a.got += s.got
							a.worstErr = max(a.worstErr, s.totalErr)
							a.worstWAPE = max(a.worstWAPE, s.wape)
							if s.over {
								a.over++
							}
							maxErr := maxTotalErrPct
							if dc.stress {
								maxErr = maxStressErrPct
							}
							if s.over && !dc.stress || s.totalErr > maxErr || s.wape > maxWAPEPct {
								t.Errorf("%s: true %d, separable %d, counted %d (error %.2f%%, over the people: %v); 5-min WAPE %.2f%%",
									c.what, s.total.truth, s.total.sep, s.got, s.totalErr, s.over, s.wape)
							}
						}
					})
				}
			}
		}
	}
	table := fmt.Sprintf("\n%d seed(s) × 1 h each; sums over the seeds, worst hour's error and WAPE\n\n", seeds) +
		"| scenario | parties/min | kind | count | true | separable | counted | worst total error | worst 5-min WAPE | hours over true |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n"
	for _, k := range order {
		a := sum[k]
		table += fmt.Sprintf("| %s | %g | %s | %s | %d | %d | %d | %.2f%% | %.2f%% | %d |\n",
			k.scenario, k.rate, k.kind, k.what, a.truth, a.sep, a.got, a.worstErr, a.worstWAPE, a.over)
	}
	t.Log(table)
}

// countOf names one count of a sim.Truth.
type countOf struct {
	what string
	get  func(sim.Truth) int
}

func (c countOf) of(ts []sim.Truth) []int {
	out := make([]int, len(ts))
	for i, x := range ts {
		out[i] = c.get(x)
	}
	return out
}

// countsOf is what a line counts: entries and exits at a door, passers-by
// on a storefront.
func countsOf(l sim.Line) []countOf {
	if l == sim.Storefront {
		return []countOf{{"passersby", func(x sim.Truth) int { return x.Passersby }}}
	}
	return []countOf{{"entries", func(x sim.Truth) int { return x.Entries }}, {"exits", func(x sim.Truth) int { return x.Exits }}}
}
