package vl53l1x_test

import (
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
)

// BenchmarkTwoZoneCycle measures one people-counting cycle (SetROI + Read
// on each of two zones) against the emulator on a simulated clock, and
// reports the I²C transactions and bytes (register index + data, not the
// address byte) per cycle and the simulated time per cycle.
func BenchmarkTwoZoneCycle(b *testing.B) {
	for _, c := range []struct {
		name string
		pin  bool
	}{{"poll", false}, {"gpio1", true}} {
		b.Run(c.name, func(b *testing.B) {
			r := newRig(vl53l1xtest.Options{})
			o := vl53l1x.Opts{DistanceMode: vl53l1x.Short, TimingBudget: 20 * time.Millisecond}
			if c.pin {
				o.Interrupt = r.emu.GPIO1()
			}
			d, err := vl53l1x.New(r.bus, r.opts(o))
			if err != nil {
				b.Fatal(err)
			}
			if err := d.StartRanging(); err != nil {
				b.Fatal(err)
			}
			cycle := func() {
				for _, center := range [2]uint8{167, 231} {
					if err := d.SetROI(8, 16, center); err != nil {
						b.Fatal(err)
					}
					rd, err := d.Read()
					if err != nil {
						b.Fatal(err)
					}
					if rd.DistanceMM != 1000+int(center) {
						b.Fatalf("zone %d: %d mm", center, rd.DistanceMM)
					}
				}
			}
			cycle() // steady state
			r.bus.reset()
			start := r.clk.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cycle()
			}
			b.StopTimer()
			b.ReportMetric(float64(r.bus.tx)/float64(b.N), "tx/cycle")
			b.ReportMetric(float64(r.bus.byts)/float64(b.N), "bytes/cycle")
			b.ReportMetric(float64(r.clk.Now().Sub(start).Microseconds())/1000/float64(b.N), "sim-ms/cycle")
		})
	}
}

// BenchmarkRead is one Read with an unchanged ROI.
func BenchmarkRead(b *testing.B) {
	r := newRig(vl53l1xtest.Options{})
	d, err := vl53l1x.New(r.bus, r.opts(vl53l1x.Opts{DistanceMode: vl53l1x.Short, TimingBudget: 20 * time.Millisecond}))
	if err != nil {
		b.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Read(); err != nil {
		b.Fatal(err)
	}
	r.bus.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Read(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(r.bus.tx)/float64(b.N), "tx/read")
	b.ReportMetric(float64(r.bus.byts)/float64(b.N), "bytes/read")
}
