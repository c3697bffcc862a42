package pintest_test

import (
	"fmt"

	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"periph.io/x/conn/v3/gpio"
)

func Example() {
	p := pintest.New("GPIO17", 17)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		fmt.Println(err)
		return
	}
	p.Set(gpio.Low) // an open-collector output switches on while nobody waits
	fmt.Println(p.WaitForEdge(0), p.Read())
	p.Release() // and off again: the pull-up brings the line back
	fmt.Println(p.WaitForEdge(0), p.Read(), p.Stats().Reported)
	// Output:
	// true Low
	// true High 2
}
