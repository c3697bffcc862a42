package vl53l1x_test

import (
	"fmt"
	"log"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"
)

// A sensor above a doorway, ranging alternately on the street-side and the
// store-side half of its field of view.
func Example() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	bus, err := i2creg.Open("")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	d, err := vl53l1x.New(bus, &vl53l1x.Opts{DistanceMode: vl53l1x.Short, TimingBudget: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Halt()
	if err := d.StartRanging(); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		for _, center := range []uint8{167, 231} {
			if err := d.SetROI(8, 16, center); err != nil {
				log.Fatal(err)
			}
			r, err := d.Read()
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("zone %d: %d mm (status %d)\n", center, r.DistanceMM, r.Status)
		}
	}
}

// The same against the emulator on a simulated clock: a person stands under
// the store-side zone.
func Example_emulator() {
	clk := vl53l1xtest.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	emu := vl53l1xtest.New(&vl53l1xtest.Options{
		Clock: clk,
		Scene: func(roi vl53l1xtest.ROI, at time.Time) (int, int) {
			if roi.Center == 231 {
				return 1200, 0 // head of a person
			}
			return 2400, 0 // floor
		},
	})
	d, err := vl53l1x.New(emu, &vl53l1x.Opts{
		DistanceMode: vl53l1x.Short, TimingBudget: 20 * time.Millisecond,
		Now: clk.Now, Sleep: clk.Sleep,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := d.StartRanging(); err != nil {
		log.Fatal(err)
	}
	for _, center := range []uint8{167, 231, 167, 231} {
		if err := d.SetROI(8, 16, center); err != nil {
			log.Fatal(err)
		}
		r, err := d.Read()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%v: %d mm, status %d\n", r.ROI, r.DistanceMM, r.Status)
	}
	// Output:
	// 8x16@167: 2400 mm, status 0
	// 8x16@231: 1200 mm, status 0
	// 8x16@167: 2400 mm, status 0
	// 8x16@231: 1200 mm, status 0
}
