package sim

import (
	"testing"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// BenchmarkZoneDistance is one physical ToF sample, as the demo's chip
// emulator asks for it.
func BenchmarkZoneDistance(b *testing.B) {
	w := mustWorld(b, "mixed-hour", 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.ZoneDistance(i&1, int64(i*25)%w.cfg.DurationMs)
	}
}

// BenchmarkReadingsToF renders the mixed hour's ToF readings.
func BenchmarkReadingsToF(b *testing.B) {
	w := mustWorld(b, "mixed-hour", 1)
	var rs []sensor.Reading
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rs, _ = w.Readings(sensor.KindToF2Zone, 0, rs[:0])
	}
	b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "readings/s")
}

func mustWorld(tb testing.TB, name string, seed uint64) *World {
	tb.Helper()
	c, err := Scenario(name, seed)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := New(c)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}
