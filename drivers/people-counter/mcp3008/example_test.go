package mcp3008_test

import (
	"fmt"

	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
)

func Example() {
	// On a Raspberry Pi: p, err := spireg.Open("/dev/spidev0.0") after
	// host.Init(). Here an emulated chip with 1.2 V on CH3.
	var p = mcp3008test.New(3.3, func(ch int) float64 {
		if ch == 3 {
			return 1.2
		}
		return 0
	})
	d, err := mcp3008.New(p, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Halt()
	code, err := d.Read(3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("CH3 = %d (%.3f V)\n", code, mcp3008.Volts(code, 3.3))
	// Output: CH3 = 372 (1.199 V)
}
