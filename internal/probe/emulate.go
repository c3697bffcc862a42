package probe

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/beam"
	"github.com/omo-edge/edge-agent/drivers/people-counter/gp2y0a"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pir"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pulse"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Emulated is the hardware of a simulated sensor: the emulated chips the
// agent reads it through, at rest (nobody in front of it). Tests build one
// with faults (a wrong model id, a floating MISO) to see the probe catch
// them.
type Emulated struct {
	Buses map[string]i2c.Bus
	Ports map[string]spi.Port
	Pins  map[string]gpio.PinIn
}

// I2C returns the emulated bus name.
func (e *Emulated) I2C(name string) (i2c.Bus, error) {
	if b, ok := e.Buses[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no emulated I2C bus %q", name)
}

// SPI returns the emulated port name.
func (e *Emulated) SPI(name string) (spi.Port, error) {
	if p, ok := e.Ports[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no emulated SPI port %q", name)
}

// Pin returns the emulated line name.
func (e *Emulated) Pin(name string) (gpio.PinIn, error) {
	if p, ok := e.Pins[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no emulated GPIO %q", name)
}

// Emulate builds the chips a simulated sensor runs on, as the agent does
// (internal/agent: openSimSource, openSimShelf, openSimPlate,
// openSimReader), with nobody in front of the sensor: a VL53L1X at 0x29
// seeing the floor, a Sharp sensor's idle output on its MCP3008 input,
// lines at their inactive level, a factory-fresh NTAG I2C plus at 0x55, a
// PN532 at 0x24.
func Emulate(sc config.SensorConfig) (Hardware, error) {
	e := &Emulated{Buses: map[string]i2c.Bus{}, Ports: map[string]spi.Port{}, Pins: map[string]gpio.PinIn{}}
	switch k := sensor.Kind(sc.Kind); {
	case k == sensor.KindToF2Zone || (k == sensor.KindToFPresence && sc.ADC == ""):
		e.Buses[sc.Bus] = vl53l1xtest.NewBus(vl53l1xtest.New(&vl53l1xtest.Options{Name: sc.ID}))
	case k == sensor.KindToFPresence:
		volts, err := sharpIdleVolts(sc)
		if err != nil {
			return nil, err
		}
		vref := mcp3008.DefaultOpts.Vref
		if sc.Vref > 0 {
			vref = sc.Vref
		}
		ch := -1
		if sc.Channel != nil {
			ch = *sc.Channel
		}
		e.Ports[sc.SPI] = mcp3008test.New(vref, func(in int) float64 {
			if in != ch {
				return 0 // nothing wired to the other inputs
			}
			return volts
		})
	case k == sensor.KindBeamPair:
		e.restPins(sc, []string{"a", "b"}, activeLowOf(sc, beam.DefaultOpts.ActiveLow))
	case k == sensor.KindPulse:
		e.restPins(sc, sensor.KindPulse.Channels(), activeLowOf(sc, pulse.DefaultOpts.ActiveLow))
	case k == sensor.KindPIR:
		e.restPins(sc, []string{"motion"}, activeLowOf(sc, pir.DefaultOpts.ActiveLow))
	case k == sensor.KindNFCPlate:
		n := nfcOf(sc)
		e.Buses[n.Bus] = ntagtest.New(&ntagtest.Opts{Addr: n.Address})
	case k == sensor.KindNFCReader:
		n := nfcOf(sc)
		emu := pn532test.New(&pn532test.Options{Addr: n.Address})
		if n.SPI != "" {
			e.Ports[n.SPI] = emu.SPI()
		} else {
			e.Buses[n.Bus] = emu.I2C()
		}
	default:
		return nil, fmt.Errorf("kind %s cannot be simulated", sc.Kind)
	}
	return e, nil
}

func nfcOf(sc config.SensorConfig) config.NFCSensorConfig {
	if sc.NFC != nil {
		return *sc.NFC
	}
	return config.NFCSensorConfig{}
}

// restPins drives each configured line at its inactive level.
func (e *Emulated) restPins(sc config.SensorConfig, chans []string, activeLow bool) {
	for i, ch := range chans {
		name := sc.Pins[ch]
		if name == "" {
			continue
		}
		p := pintest.New(name, i)
		p.Set(gpio.Level(activeLow)) // inactive: high when active low
		e.Pins[name] = p
	}
}

// sharpIdleVolts is the Sharp sensor's output with only the far side of
// the aisle in view (clamped to the curve: the far end's output, or less
// beyond it).
func sharpIdleVolts(sc config.SensorConfig) (float64, error) {
	curve := gp2y0a.GP2Y0A21YK0F()
	switch sc.Sharp {
	case "", "gp2y0a21yk0f":
	case "gp2y0a02yk0f":
		curve = gp2y0a.GP2Y0A02YK0F()
	default:
		return 0, fmt.Errorf("sharp %q: want gp2y0a21yk0f or gp2y0a02yk0f", sc.Sharp)
	}
	aisle := 1800
	if sc.Simulate != nil && sc.Simulate.AisleMM > 0 {
		aisle = sc.Simulate.AisleMM
	}
	lo, hi := curve.Range()
	mm := min(max(aisle, lo), hi)
	v, err := curve.Voltage(mm)
	if err != nil {
		return 0, err
	}
	if aisle > hi {
		v = v * float64(hi) / float64(aisle)
	}
	return v, nil
}
