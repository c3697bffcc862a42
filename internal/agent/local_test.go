package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/config"
)

// With no daemon, Connect reads the sensors in-process and serves the
// daemon's stream: the same header, readings, events and status lines,
// and nothing is buffered or published.
func TestConnectLocalStream(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, fmt.Sprintf(scriptedYAML, dir, dir+"/status.sock"))
	gate := make(chan struct{})
	open := func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
		if sc.ID == "door" {
			return &scriptedBeams{gate: gate, walks: []bool{true, true, false, true}}, nil
		}
		return &scriptedBeams{gate: gate, walks: []bool{true, false, true}}, nil
	}
	s, err := Connect(cfg.StatusSocket, cfg, StreamRequest{}, ConnectOptions{Timeout: 2 * time.Second, Agent: Options{OpenSource: open}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Local() {
		t.Fatal("no daemon runs, yet the stream is not local")
	}
	if h := s.Header(); len(h.Sensors) != 2 || h.Sensors[0].ID != "door" || h.Start.IsZero() {
		t.Fatalf("header %+v", h)
	}
	close(gate)
	events := map[string]int{}
	readings := 0
	var status *StreamLine
	deadline := time.Now().Add(15 * time.Second)
	for events["door/entry"]+events["door/exit"]+events["street/passerby"] < 7 || status == nil {
		if time.Now().After(deadline) {
			t.Fatalf("after 15s: events %v readings %d", events, readings)
		}
		var l StreamLine
		if err := s.Next(&l); err != nil {
			t.Fatal(err)
		}
		switch l.Type {
		case "event":
			events[l.Sensor+"/"+l.Event]++
		case "reading":
			readings++
		case "status":
			status = &l
		}
	}
	if want := map[string]int{"door/entry": 3, "door/exit": 1, "street/passerby": 3}; fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	if readings != 28 {
		t.Fatalf("%d readings, want 16 + 12", readings)
	}
	r := status.Status
	if r == nil || r.Broker.Connected || !strings.Contains(r.Broker.LastError, "not publishing") || len(r.Sensors) != 2 || r.Sensors[0].State != "ok" {
		t.Fatalf("status %+v", r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a local stream opened the outbox: %v", err)
	}
	if _, err := os.Stat(cfg.StatusSocket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a local stream listens on the status socket: %v", err)
	}
}

// Local mode on the simulated store: only the asked sensor is opened; a
// calibration is saved in the state directory and the daemon started next
// uses it.
func TestConnectLocalSimulatedCalibrate(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, simStoreYAML("tcp://127.0.0.1:1", dir, ""))
	s, err := Connect(cfg.StatusSocket, cfg, StreamRequest{What: []string{StreamReadings, StreamStatus}, Sensors: []string{"door"}}, ConnectOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var readings int
	var status *Report
	for deadline := time.Now().Add(10 * time.Second); readings < 20 || status == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("readings %d status %v", readings, status)
		}
		var l StreamLine
		if err := s.Next(&l); err != nil {
			t.Fatal(err)
		}
		switch l.Type {
		case "reading":
			if l.Sensor != "door" || (l.Channel != "z0" && l.Channel != "z1") {
				t.Fatalf("reading %+v", l)
			}
			readings++
		case "status":
			status = l.Status
		}
	}
	if status.Sensors[0].State != "ok" || status.Sensors[1].State != "off" {
		t.Fatalf("states %+v", status.Sensors)
	}
	res, err := s.Calibrate("door", map[string]string{"baseline_z0_mm": "2400", "baseline_z1_mm": "2410", "threshold_mm": "350"}, 2*time.Second)
	if err != nil || res.Effective["threshold_mm"] != "350" {
		t.Fatalf("calibrate: %+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, calibrationFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Calibrate("street", map[string]string{"threshold_mm": "350"}, 2*time.Second); err == nil {
		t.Fatal("a beam's threshold_mm calibrated")
	}
	s.Close()

	// The daemon, started next, loads the calibration.
	runAgent(t, cfg)
	waitFor(t, "the daemon's status", 5*time.Second, func() bool {
		r, err := QueryStatus(cfg.StatusSocket, time.Second)
		return err == nil && r.Sensors[0].Calibration != nil && r.Sensors[0].Calibration.Params["threshold_mm"] == "350"
	})
}

// A running daemon is always preferred: its stream, not the buses.
func TestConnectPrefersDaemon(t *testing.T) {
	cfg := runScripted(t, make(chan struct{}), nil, nil)
	s, err := Connect(cfg.StatusSocket, cfg, StreamRequest{What: []string{StreamEvents}}, ConnectOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Local() {
		t.Fatal("a daemon runs, yet the stream is local")
	}
}

// A bus that cannot be opened fails the connection naming the sensor and
// the bus; a wrong sensor id is refused before any bus is opened; with no
// config there is no fallback.
func TestConnectLocalRefusals(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, fmt.Sprintf(`store_id: s
agent_id: a
state_dir: %q
status_socket: %q
clock: {require_sync: false}
mqtt: {broker: "tcp://127.0.0.1:1"}
sensors:
  - id: door
    kind: tof-2zone
    role: entrance
    bus: "1"
`, dir, dir+"/status.sock"))
	if _, err := os.Stat("/dev/i2c-1"); err == nil {
		t.Skip("this machine has an I2C bus 1")
	}
	_, err := Connect(cfg.StatusSocket, cfg, StreamRequest{}, ConnectOptions{Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "sensor door (tof-2zone on I2C bus 1)") || !strings.Contains(err.Error(), `I2C bus "1"`) {
		t.Fatalf("err %v", err)
	}
	_, err = Connect(cfg.StatusSocket, cfg, StreamRequest{Sensors: []string{"dor"}}, ConnectOptions{Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), `unknown sensor "dor" (known: door)`) {
		t.Fatalf("err %v", err)
	}
	if _, err := Connect(cfg.StatusSocket, nil, StreamRequest{}, ConnectOptions{Timeout: time.Second}); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no daemon, no config: %v", err)
	}
	if _, err := OpenLocal(cfg, nil, Options{}, nil); err == nil || !strings.Contains(err.Error(), "sensor door") {
		t.Fatalf("OpenLocal: %v", err)
	}
}
