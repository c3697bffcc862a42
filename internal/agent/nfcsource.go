package agent

import (
	"fmt"

	"github.com/omo-edge/edge-agent/internal/config"
)

// openNFCSource builds the source of a smart plate or a check-in reader.
func (a *Agent) openNFCSource(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
	return nil, fmt.Errorf("kind %s is not supported by the daemon yet", sc.Kind)
}
