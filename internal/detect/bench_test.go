package detect_test

import (
	"testing"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

// benchDetect feeds the mixed hour's readings of one kind through its
// detector, over and over, and reports readings per second. The event
// slice is reused as the pipeline does, so steady state must not allocate.
func benchDetect(b *testing.B, kind sensor.Kind) {
	cfg, err := sim.Scenario("mixed-hour", 1)
	if err != nil {
		b.Fatal(err)
	}
	w, err := sim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rs, err := w.Readings(kind, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	spec, _ := sensor.NewSpec("s", kind, w.Role(), nil)
	d, err := detect.New(spec, 0)
	if err != nil {
		b.Fatal(err)
	}
	ev := make([]sensor.Event, 0, 16)
	span := cfg.DurationMs + 1000
	var off int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := rs[i%len(rs)]
		if i > 0 && i%len(rs) == 0 {
			off += span // replay the hour again, later: time never goes back
		}
		r.TMs += off
		ev = d.Feed(r, ev[:0])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}

func BenchmarkDetectToF2Zone(b *testing.B) { benchDetect(b, sensor.KindToF2Zone) }
func BenchmarkDetectBeam(b *testing.B)     { benchDetect(b, sensor.KindBeamPair) }
func BenchmarkDetectPulse(b *testing.B)    { benchDetect(b, sensor.KindPulse) }
