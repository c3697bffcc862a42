package sim

import (
	"slices"
	"testing"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// TestDoorwayEffects checks that the real-doorway scenario has what it
// promises: short clear gaps inside blocks, short leading hits, merged
// pairs (Separable below Truth), and the same world for the same seed.
func TestDoorwayEffects(t *testing.T) {
	w := mustWorld(t, "doorway", 4)
	rs, err := w.Readings(sensor.KindBeamPair, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gaps, shortBlocks, longGaps int
	var last [2]sensor.Reading
	for _, r := range rs {
		prev := last[r.Channel]
		if prev.TMs > 0 && r.Value == 1 && prev.Value == 0 {
			switch d := r.TMs - prev.TMs; {
			case d >= interiorGapMinMs && d <= interiorGapMaxMs:
				gaps++
			case d > interiorGapMaxMs && d <= leadMaxMs:
				longGaps++ // after a leading hand, or a tailgater's
			}
		}
		if prev.TMs > 0 && r.Value == 0 && prev.Value == 1 && r.TMs-prev.TMs <= leadFlickMaxMs {
			shortBlocks++
		}
		last[r.Channel] = r
	}
	tr, sep := w.Truth(0, w.Config().DurationMs), w.Separable(0, w.Config().DurationMs)
	followers := 0
	for _, p := range w.People() {
		if p.Follows {
			followers++
		}
	}
	t.Logf("gaps %d, gaps after a hand %d, short blocks %d, truth %+v, separable %+v, followers %d", gaps, longGaps, shortBlocks, tr, sep, followers)
	if people := tr.Entries + tr.Exits; gaps < people || longGaps == 0 || shortBlocks < people/10 {
		t.Errorf("%d interior gaps, %d gaps after a hand, %d short blocks for %d people", gaps, longGaps, shortBlocks, people)
	}
	if followers == 0 || sep.Entries+sep.Exits+followers != tr.Entries+tr.Exits {
		t.Errorf("truth %+v, separable %+v, %d followers", tr, sep, followers)
	}
	again := mustWorld(t, "doorway", 4)
	rs2, _ := again.Readings(sensor.KindBeamPair, 0, nil)
	if !slices.EqualFunc(rs, rs2, func(a, b sensor.Reading) bool { return a.TMs == b.TMs && a.Channel == b.Channel && a.Value == b.Value }) {
		t.Error("the same seed drew another world")
	}
}
