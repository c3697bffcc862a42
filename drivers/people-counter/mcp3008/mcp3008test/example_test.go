package mcp3008test_test

import (
	"fmt"

	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func Example() {
	chip := mcp3008test.New(3.3, func(ch int) float64 { return 1.65 })
	c, err := chip.Connect(physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := make([]byte, 3)
	// Start bit, single-ended CH0, don't care.
	if err := c.Tx([]byte{0x01, 0x80, 0x00}, r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", r)
	// Output: 00 02 00
}
