package hw

import (
	"errors"
	"strings"
	"testing"
)

// No bus or line is registered in tests (host.Init is not called), which is
// what a technician meets on a Pi with I2C/SPI disabled.
func TestErrorsSayWhatToCheck(t *testing.T) {
	_, err := OpenI2C("1")
	if err == nil || !strings.Contains(err.Error(), `I2C bus "1"`) || !strings.Contains(err.Error(), "raspi-config") ||
		!strings.Contains(err.Error(), "no I2C buses") || strings.Contains(err.Error(), "Init()") {
		t.Fatalf("I2C: %v", err)
	}
	_, err = OpenSPI("/dev/spidev0.0")
	if err == nil || !strings.Contains(err.Error(), `SPI port "/dev/spidev0.0"`) || strings.Contains(err.Error(), "Init()") {
		t.Fatalf("SPI: %v", err)
	}
	_, err = Pin("GPIO17")
	if err == nil || !strings.Contains(err.Error(), `GPIO "GPIO17"`) || !strings.Contains(err.Error(), "group gpio") {
		t.Fatalf("GPIO: %v", err)
	}
}

func TestPeriphMsg(t *testing.T) {
	got := periphMsg(errors.New("i2creg: no bus found; did you forget to call Init()?"))
	if got != "no bus found" {
		t.Fatalf("%q", got)
	}
}
