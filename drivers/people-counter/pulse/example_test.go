package pulse_test

import (
	"context"
	"fmt"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pulse"
	"periph.io/x/conn/v3/gpio"
)

func Example() {
	// On a Raspberry Pi: gpioreg.ByName("GPIO23") etc. after host.Init().
	in, out := pintest.New("GPIO23", 23), pintest.New("GPIO24", 24)
	d, err := pulse.New(map[string]gpio.PinIn{"in": in, "out": out}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Halt()

	go func() { // the counter reports one person coming in
		in.Set(gpio.Low)
		time.Sleep(100 * time.Millisecond)
		in.Release()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := d.Next(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Line, p.Duration() >= 100*time.Millisecond)
	// Output: in true
}
