package agent

import (
	"fmt"

	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// openNFCSource builds the source of a smart plate or a check-in reader:
// the real driver on the real chip, or on an emulated chip for simulate:.
func (a *Agent) openNFCSource(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
	sim := sc.Simulate != nil
	switch k := sensor.Kind(sc.Kind); {
	case k == sensor.KindNFCPlate && sim:
		return a.openSimPlate(sc, env)
	case k == sensor.KindNFCPlate:
		return a.openPlateHW(sc, env)
	case k == sensor.KindNFCReader && sim:
		return a.openSimReader(sc, env)
	case k == sensor.KindNFCReader:
		return a.openReaderHW(sc, env)
	}
	return nil, fmt.Errorf("kind %s is not an NFC kind", sc.Kind)
}
