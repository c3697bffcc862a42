package pn532_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/pn532"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
)

// On a Raspberry Pi, open the bus with periph.io/x/host/v3 and
// i2creg.Open("") (or spireg.Open("") for NewSPI); here the emulator stands
// in for the chip.
func Example() {
	clk := pn532test.NewClock()
	chip := pn532test.New(&pn532test.Options{Now: clk.Now, Sleep: clk.Sleep})
	_ = chip.PresentCard([]byte{0x04, 0xA2, 0x3B, 0x1C, 0x55, 0x80, 0x00})

	dev, err := pn532.NewI2C(chip.I2C(), &pn532.Opts{Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Halt()

	fw, err := dev.FirmwareVersion()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fw)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	tg, err := dev.Poll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tg) // never prints the UID itself
	// Output:
	// PN532 firmware 1.6 support 0x07
	// target 1: type A 106 kbps, SENS_RES 0044 SEL_RES 00, 7-byte UID
}

// Reading a member token from a store app's HCE service over SPI.
func ExampleDev_SelectAID() {
	clk := pn532test.NewClock()
	chip := pn532test.New(&pn532test.Options{Now: clk.Now, Sleep: clk.Sleep})
	aid := []byte{0xF0, 0x4F, 0x4D, 0x4F, 0x01}
	_ = chip.PresentPhoneHCE(aid, []byte{0x12, 0x34, 0x56})

	dev, err := pn532.NewSPI(chip.SPI(), &pn532.Opts{Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		log.Fatal(err)
	}
	tg, err := dev.Poll(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	if !tg.ISODEP() {
		log.Fatal("not a phone")
	}
	token, err := dev.SelectAID(aid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("token of %d bytes\n", len(token))
	// Output:
	// token of 3 bytes
}
