package gp2y0a_test

import (
	"fmt"

	"github.com/omo-edge/edge-agent/drivers/people-counter/gp2y0a"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
)

func Example() {
	// A GP2Y0A02YK0F on CH0 of an MCP3008; here emulated, with a shopper
	// 75 cm in front of the shelf.
	curve := gp2y0a.GP2Y0A02YK0F()
	v, _ := curve.Voltage(750)
	chip := mcp3008test.New(3.3, func(int) float64 { return v })
	adc, err := mcp3008.New(chip, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := gp2y0a.New(adc, 0, &gp2y0a.Opts{Curve: curve})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := d.Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d mm (%.2f V)\n", r.Status, r.DistanceMM, r.Volts)
	// Output: ok: 752 mm (0.84 V)
}
