// Package simstore writes the daemon config of a small simulated store for
// integration tests: fast windows and commits, quick reconnects, sensors
// fed by the simulator.
package simstore

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Config is what differs between tests.
type Config struct {
	Broker, StateDir string
	// Socket is the status socket; "" puts it in StateDir.
	Socket string
	// Extra is added under buffer: (lines indented by two spaces).
	Extra string
	// Sensors: a ToF door ("door"), a beam pair ("street") and, past 2,
	// more beam pairs street-3, street-4, … (25 messages a second at 24).
	Sensors int
}

// YAML renders the config: 1 s windows, commits every 200 ms.
func (c Config) YAML() string {
	sock := c.Socket
	if sock == "" {
		sock = filepath.Join(c.StateDir, "status.sock")
	}
	var b strings.Builder
	fmt.Fprintf(&b, `store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
log_level: warn
window: 1s
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: %q
  backoff_min: 100ms
  backoff_max: 500ms
  backlog_rate: 0
  connect_timeout: 2s
buffer:
  flush_interval: 200ms
%s
sensors:
  - id: door
    kind: tof-2zone
    role: entrance
    bus: sim
    timing_budget: 20ms
    simulate: {seed: 7, per_minute: 40}
  - id: street
    kind: beam-pair
    role: passerby
    pins: {a: SIM_A, b: SIM_B}
    simulate: {seed: 8, per_minute: 120}
`, c.StateDir, sock, c.Broker, c.Extra)
	for i := 3; i <= c.Sensors; i++ {
		fmt.Fprintf(&b, `  - id: street-%d
    kind: beam-pair
    role: passerby
    pins: {a: SIM_A%d, b: SIM_B%d}
    simulate: {seed: %d, per_minute: 120}
`, i, i, i, 6+i)
	}
	return b.String()
}
