package beam_test

import (
	"context"
	"fmt"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/beam"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
)

func Example() {
	// On a Raspberry Pi these would be gpioreg.ByName("GPIO5") and "GPIO6"
	// after host.Init(); here two fake lines stand in for the receivers.
	a, b := pintest.New("GPIO5", 5), pintest.New("GPIO6", 6)
	d, err := beam.New(a, b, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Halt()

	go func() { // someone walks in: street-side beam first
		a.Set(gpio.Low)
		time.Sleep(40 * time.Millisecond)
		b.Set(gpio.Low)
		time.Sleep(60 * time.Millisecond)
		a.Set(gpio.High)
		time.Sleep(40 * time.Millisecond)
		b.Set(gpio.High)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 4; i++ {
		c, err := d.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Name(), c.Blocked)
	}
	// Output:
	// a true
	// b true
	// a false
	// b false
}
