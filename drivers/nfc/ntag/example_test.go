package ntag_test

import (
	"fmt"
	"log"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"
)

// An NDEF message written over I²C is what a phone reads when it taps the
// tag. The emulator stands in for the chip and the phone.
func Example() {
	tag := ntagtest.New(nil)
	dev, err := ntag.New(tag, &ntag.Opts{FD: tag.FD()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dev.Version(), "holds", dev.Capacity(), "bytes of NDEF TLV")

	// One URI record, "https://" + "omo.example/p/42" (NDEF short record).
	uri := "omo.example/p/42"
	msg := append([]byte{0xD1, 0x01, byte(1 + len(uri)), 'U', 0x04}, uri...)
	if err := dev.WriteNDEF(msg); err != nil {
		log.Fatal(err)
	}

	tag.PhoneTap()
	present, _ := dev.WaitField(time.Second)
	read, _ := tag.RFReadNDEF()
	fmt.Println("phone present:", present)
	fmt.Printf("phone reads %q\n", read[5:])
	// Output:
	// NT3H2111 (NTAG I2C plus 1k) holds 872 bytes of NDEF TLV
	// phone present: true
	// phone reads "omo.example/p/42"
}

// On a Raspberry Pi: the tag on I²C bus 1, its FD pin on GPIO 17.
func Example_hardware() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	bus, err := i2creg.Open("1")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	dev, err := ntag.New(bus, &ntag.Opts{FD: gpioreg.ByName("GPIO17")})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Halt()
	for {
		if ok, err := dev.WaitField(time.Minute); err != nil {
			log.Fatal(err)
		} else if ok {
			fmt.Println("tap")
		}
	}
}
