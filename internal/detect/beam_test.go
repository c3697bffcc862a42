package detect_test

import (
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// blocks turns per-beam blocked intervals [start, end) into the change
// readings a beam pair delivers, in time order.
func blocks(a, b [][2]int64) []sensor.Reading {
	var rs []sensor.Reading
	add := func(ch int, iv [][2]int64) {
		for _, x := range iv {
			rs = append(rs, sensor.Reading{TMs: x[0], Channel: ch, Value: 1}, sensor.Reading{TMs: x[1], Channel: ch, Value: 0})
		}
	}
	add(0, a)
	add(1, b)
	for i := 1; i < len(rs); i++ { // insertion sort: stable, tiny inputs
		for j := i; j > 0 && rs[j].TMs < rs[j-1].TMs; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	return rs
}

func beamEvents(d detect.Detector, rs []sensor.Reading) []sensor.EventType {
	var ev []sensor.Event
	next := int64(100)
	for _, r := range rs {
		for ; r.TMs >= next; next += 100 {
			ev = d.Flush(next, ev)
		}
		ev = d.Feed(r, ev)
	}
	return types(d.Flush(1e6, ev))
}

// TestBeamRealDoorway pins what the beam state machine does with what real
// doorways show (sim doorway.go): a person walking in at 1.2 m/s blocks a
// for 217 ms and b 67 ms later (8 cm apart).
func TestBeamRealDoorway(t *testing.T) {
	entry, exit, none := []sensor.EventType{sensor.Entry}, []sensor.EventType{sensor.Exit}, []sensor.EventType{}
	swap := func(a, b [][2]int64) ([][2]int64, [][2]int64) { return b, a }
	for _, c := range []struct {
		name string
		a, b [][2]int64
		want []sensor.EventType
	}{
		{"clean", [][2]int64{{1000, 1217}}, [][2]int64{{1067, 1284}}, entry},
		// Without bridging the two halves of each block pair up twice.
		{"interior gaps", [][2]int64{{1000, 1100}, {1120, 1217}}, [][2]int64{{1067, 1110}, {1130, 1160}, {1190, 1284}}, entry},
		{"gap right after the start", [][2]int64{{1000, 1010}, {1040, 1217}}, [][2]int64{{1067, 1284}}, entry},
		// A hand ahead of the body on both beams would pair into an entry of its own.
		{"leading hands", [][2]int64{{900, 920}, {1000, 1217}}, [][2]int64{{967, 985}, {1067, 1284}}, entry},
		{"hands only", [][2]int64{{900, 920}}, [][2]int64{{967, 985}}, none},
		// Fast and thin (1.8 m/s, 22 cm): b's hand is bridged into b's block,
		// a's is not, so b starts 16 ms before a; its onset (blocked time
		// counted) is still after a's.
		{"hand bridged on b only", [][2]int64{{940, 950}, {1000, 1122}}, [][2]int64{{984, 1010}, {1044, 1166}}, entry},
		// A hand trailing on a, bridged, ends a 16 ms after b: within skew_ms.
		{"trailing hand bridged on a", [][2]int64{{1000, 1217}, {1230, 1300}}, [][2]int64{{1067, 1284}}, entry},
		{"u-turn with gaps", [][2]int64{{1000, 1150}, {1170, 1500}}, [][2]int64{{1080, 1300}}, none},
		{"tailgaters merged", [][2]int64{{1000, 1217}, {1237, 1454}}, [][2]int64{{1067, 1284}, {1304, 1521}}, entry},
		{"lingerer with gaps goes back", [][2]int64{{1000, 4000}, {4030, 6000}}, [][2]int64{{1100, 3000}, {3020, 5900}}, none},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := beamEvents(newDetector(t, sensor.KindBeamPair, sensor.RoleEntrance), blocks(c.a, c.b)); !equal(got, c.want) {
				t.Errorf("entering: %v, want %v", got, c.want)
			}
			want := c.want
			if len(want) == 1 {
				want = exit
			}
			a, b := swap(c.a, c.b)
			if got := beamEvents(newDetector(t, sensor.KindBeamPair, sensor.RoleEntrance), blocks(a, b)); !equal(got, want) {
				t.Errorf("leaving: %v, want %v", got, want)
			}
		})
	}
	// The old machine (no bridging, no hand filter, exact edges) double
	// counts the interior gaps and counts the hands.
	old := [][2]string{{"bridge_ms", "0"}, {"min_block_ms", "0"}, {"skew_ms", "0"}}
	if got := beamEvents(newDetector(t, sensor.KindBeamPair, sensor.RoleEntrance, old...),
		blocks([][2]int64{{1000, 1100}, {1120, 1217}}, [][2]int64{{1067, 1110}, {1130, 1284}})); len(got) != 2 {
		t.Errorf("without bridging: %v, want two entries", got)
	}
	if got := beamEvents(newDetector(t, sensor.KindBeamPair, sensor.RoleEntrance, old...),
		blocks([][2]int64{{900, 920}}, [][2]int64{{967, 985}})); len(got) != 1 {
		t.Errorf("hands without min_block_ms: %v, want one entry", got)
	}
	if got := beamEvents(newDetector(t, sensor.KindBeamPair, sensor.RoleEntrance, [2]string{"skew_ms", "0"}),
		blocks([][2]int64{{1000, 1217}, {1230, 1300}}, [][2]int64{{1067, 1284}})); len(got) != 0 {
		t.Errorf("trailing hand with exact edges: %v, want nothing", got)
	}
}

func TestBeamKeys(t *testing.T) {
	for _, kv := range [][2]string{{"bridge_ms", "501"}, {"min_block_ms", "-1"}, {"skew_ms", "x"}} {
		spec, err := sensor.NewSpec("door", sensor.KindBeamPair, sensor.RoleEntrance, [][2]string{kv})
		if err == nil {
			_, err = detect.New(spec, 0)
		}
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: error %v, want one naming the key", kv[0], kv[1], err)
		}
	}
}
