// Package hw opens the host's I2C buses, SPI ports and GPIO lines by the
// names a config uses, through periph's registries, with errors a field
// technician can act on: what was asked for, what this Pi has, and what to
// check. The caller loads periph's host drivers (host.Init) first.
package hw

import (
	"fmt"
	"sort"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
)

// OpenI2C opens I2C bus name ("1" or "/dev/i2c-1").
func OpenI2C(name string) (i2c.BusCloser, error) {
	b, err := i2creg.Open(name)
	if err != nil {
		var found []string
		for _, r := range i2creg.All() {
			found = append(found, r.Name)
		}
		return nil, fmt.Errorf("I2C bus %q cannot be opened: %s (%s; is I2C enabled: sudo raspi-config → Interface Options → I2C? is the agent's user in group i2c?)",
			name, periphMsg(err), foundList("I2C buses", found))
	}
	return b, nil
}

// OpenSPI opens SPI port name ("/dev/spidev0.0" or "SPI0.0").
func OpenSPI(name string) (spi.PortCloser, error) {
	p, err := spireg.Open(name)
	if err != nil {
		var found []string
		for _, r := range spireg.All() {
			found = append(found, r.Name)
		}
		return nil, fmt.Errorf("SPI port %q cannot be opened: %s (%s; is SPI enabled: sudo raspi-config → Interface Options → SPI? is the agent's user in group spi?)",
			name, periphMsg(err), foundList("SPI ports", found))
	}
	return p, nil
}

// Pin returns GPIO line name ("GPIO17").
func Pin(name string) (gpio.PinIO, error) {
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	n := len(gpioreg.All())
	if n == 0 {
		return nil, fmt.Errorf("GPIO %q not found: this host has no GPIO lines (not a Raspberry Pi, or the agent's user is not in group gpio)", name)
	}
	return nil, fmt.Errorf("GPIO %q not found among this host's %d lines (names look like GPIO17, the BCM number)", name, n)
}

// periphMsg drops periph's package prefix and its hint for programmers
// ("did you forget to call Init()?"), which means nothing to a technician.
func periphMsg(err error) string {
	s := err.Error()
	if i := strings.Index(s, "; did you forget"); i >= 0 {
		s = s[:i]
	}
	for _, p := range []string{"i2creg: ", "spireg: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

func foundList(what string, names []string) string {
	if len(names) == 0 {
		return "this host has no " + what
	}
	sort.Strings(names)
	return what + " here: " + strings.Join(names, ", ")
}
