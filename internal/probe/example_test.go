package probe_test

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"

	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/probe"
)

func ExampleRun() {
	// A door sensor on I2C bus 1; here the bus holds an emulated chip that
	// is not a VL53L1X. On a Pi, Host: &probe.Host{} opens the real bus.
	cfg := &config.Config{Sensors: []config.SensorConfig{{ID: "door", Kind: "tof-2zone", Bus: "1"}}}
	chip := vl53l1xtest.New(&vl53l1xtest.Options{ModelID: 0xEEAA})
	hw := &probe.Emulated{Buses: map[string]i2c.Bus{"1": vl53l1xtest.NewBus(chip)}}

	rep := probe.Run(cfg, probe.Options{Host: hw})
	for _, s := range rep.Sensors {
		fmt.Println(s.Sensor, s.Status)
		for _, c := range s.Checks {
			fmt.Printf("  %s: %s: %s\n", c.Name, c.Status, c.Detail)
		}
	}
	// Output:
	// door wrong_device
	//   i2c scan: ok: I2C 1: 0x29 answers
	//   model id: wrong_device: IDENTIFICATION__MODEL_ID at 0x29 reads 0xeeaa, want 0xeacc: not a VL53L1X
}
