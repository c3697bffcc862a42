package pir_test

import (
	"context"
	"fmt"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pir"
	"periph.io/x/conn/v3/gpio"
)

func Example() {
	// On a Raspberry Pi: gpioreg.ByName("GPIO27") after host.Init().
	p := pintest.New("GPIO27", 27)
	o := pir.DefaultOpts
	o.Hold = 100 * time.Millisecond // a sped-up module for the example
	d, err := pir.New(p, &o)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Halt()

	// Drive the line as a module would for motion at 0 and 50 ms.
	m := pir.Module{Hold: o.Hold, Block: o.Block, Retrigger: true}
	t0 := time.Now()
	for _, s := range m.Output([]time.Time{t0, t0.Add(50 * time.Millisecond)}) {
		time.Sleep(time.Until(s.Start))
		p.Set(gpio.High)
		time.Sleep(time.Until(s.End))
		p.Set(gpio.Low)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		c, err := d.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Motion, c.At.Sub(c.LastMotion))
	}
	// Output:
	// true 0s
	// false 100ms
}
