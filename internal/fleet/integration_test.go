package fleet

import (
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// mosquittoControl stops and restarts a test Mosquitto for the outage.
type mosquittoControl struct{ b *mosquitto.Broker }

func (m mosquittoControl) Stop() error  { m.b.Stop(); return nil }
func (m mosquittoControl) Start() error { m.b.Restart(); return nil }

func (m mosquittoControl) ConnectTimes(since time.Time) []time.Time {
	return mosquittoConnects(m.b.Log(), since)
}

// TestFleetIntegration: 50 stores, each a real agent, against one
// Mosquitto that goes away for 10 minutes of store time: nothing lost,
// everything delivered once deduplicated, reconnects spread over the
// configured window, fresh windows within seconds while the backlog drains.
func TestFleetIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: a 50-store fleet against Mosquitto")
	}
	b := mosquitto.Start(t, mosquitto.Options{Persistent: true, ExtraConfig: "max_connections -1\nmemory_limit 0\n"})
	o := Options{Stores: 50, Speedup: 60, Outage: 10 * time.Minute, Warmup: 2 * time.Minute, Tail: time.Second,
		Dir: t.TempDir(), Broker: b.URL(), Control: mosquittoControl{b},
		ReconnectSpread: 4 * time.Second, BackoffMax: 4 * time.Second, BacklogRate: 200, Progress: t.Logf}
	s := runAndCheck(t, o)
	// the broker saw the same spread
	if s.BrokerMaxConnectsPerS == 0 || float64(s.BrokerMaxConnectsPerS) > s.ConnectBoundPerS {
		t.Errorf("Mosquitto's log: peak %d connects in one second, bound %.1f", s.BrokerMaxConnectsPerS, s.ConnectBoundPerS)
	}
}
