package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/config"
)

// doorWalks is a scripted ToF door: a 2400 mm floor under both zones and,
// every second, a head at 1900 mm (500 mm below the floor) walking in,
// under z0 then z1; both zones read every 20 ms.
type doorWalks struct{}

func (doorWalks) Run(ctx context.Context, emit Emit) error {
	start := time.Now()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			ph := now.Sub(start).Milliseconds() % 1000
			for ch, span := range [2][2]int64{{200, 600}, {350, 750}} {
				v := int64(2400)
				if ph >= span[0] && ph < span[1] {
					v = 1900
				}
				emit(ch, v, nil, now)
			}
		}
	}
}

// idleBeams is a beam pair nobody crosses.
type idleBeams struct{}

func (idleBeams) Run(ctx context.Context, emit Emit) error { <-ctx.Done(); return nil }

func calibrationConfig(t *testing.T, dir string) *config.Config {
	return loadConfig(t, fmt.Sprintf(`store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
log_level: warn
window: 1h
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: tcp://127.0.0.1:1
buffer:
  flush_interval: 200ms
sensors:
  - id: door
    kind: tof-2zone
    role: entrance
    bus: sim
    timing_budget: 20ms
    simulate: {seed: 7, per_minute: 40}
    params: {baseline_z0_mm: "2400", baseline_z1_mm: "2400"}
  - id: street
    kind: beam-pair
    role: passerby
    pins: {a: SIM_A, b: SIM_B}
    simulate: {seed: 8, per_minute: 120}
`, dir, filepath.Join(dir, "status.sock")))
}

// runDoorWalks runs an agent on the scripted sources until the test ends
// or stop is called.
func runDoorWalks(t *testing.T, cfg *config.Config) (a *Agent, stop func()) {
	t.Helper()
	open := func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
		if sc.ID == "door" {
			return doorWalks{}, nil
		}
		return idleBeams{}, nil
	}
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError})),
		Options{Version: "test", OpenSource: open})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := QueryStatus(cfg.StatusSocket, time.Second); err == nil {
			return a, stop
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon did not answer")
		}
	}
}

// doorEntries counts the door's entries the daemon streams over d, or
// until enough have come (a loaded machine's daemon may lag: a test that
// wants some waits for them, one that wants none listens the whole d), and
// returns the stream header's door threshold.
func doorEntries(t *testing.T, sock string, d time.Duration, enough int) (entries int, thresholdMM int64) {
	t.Helper()
	st, err := Subscribe(sock, StreamRequest{What: []string{StreamEvents}, Sensors: []string{"door"}}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	thresholdMM = st.Header().Sensors[0].ThresholdMM
	timer := time.AfterFunc(d, func() { st.Close() })
	defer timer.Stop()
	var l StreamLine
	for st.Next(&l) == nil {
		if l.Type == "event" && l.Event == "entry" {
			if entries++; entries >= enough {
				break
			}
		}
	}
	return entries, thresholdMM
}

// A calibration sent over the socket changes what the running daemon
// counts at once, and the next start of the daemon keeps it.
func TestCalibrateRunningDaemonAndRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := calibrationConfig(t, dir)
	_, stop := runDoorWalks(t, cfg)
	sock := cfg.StatusSocket

	if n, thr := doorEntries(t, sock, 8*time.Second, 2); n < 2 || thr != 300 {
		t.Fatalf("before calibration: %d entries, threshold %d; want >= 2 at 300", n, thr)
	}
	// Refusals save nothing.
	for _, c := range []struct {
		sensor string
		params map[string]string
		want   string
	}{
		{"door", map[string]string{"baseline_zz_mm": "2400"}, `unknown key "baseline_zz_mm"`},
		{"door", map[string]string{"threshold_mm": "20"}, "threshold_mm"},
		{"door", map[string]string{"baseline_z0_mm": "250"}, "baseline_z0_mm"}, // not above the threshold
		{"door", nil, "no params"},
		{"nope", map[string]string{"threshold_mm": "700"}, `unknown sensor "nope"`},
		{"street", map[string]string{"max_presence_ms": "5000"}, "key max_presence_ms cannot be calibrated on a beam-pair"},
	} {
		if _, err := Calibrate(sock, c.sensor, c.params, 2*time.Second); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("calibrate %s %v: %v, want an error with %q", c.sensor, c.params, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, calibrationFile)); !os.IsNotExist(err) {
		t.Fatalf("refused calibrations wrote %s: %v", calibrationFile, err)
	}

	// A threshold deeper than the walkers' heads: nobody is counted now.
	res, err := Calibrate(sock, "door", map[string]string{"threshold_mm": "700"}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Effective["threshold_mm"] != "700" || res.Effective["baseline_z0_mm"] != "2400" || res.At.IsZero() {
		t.Fatalf("result %+v", res)
	}
	if n, thr := doorEntries(t, sock, 2500*time.Millisecond, 1); n != 0 || thr != 700 {
		t.Fatalf("after calibration: %d entries, threshold %d; want 0 at 700", n, thr)
	}
	r, err := QueryStatus(sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Sensors[0].Calibration; c == nil || c.Params["threshold_mm"] != "700" || r.Sensors[1].Calibration != nil {
		t.Fatalf("status calibration %+v", r.Sensors)
	}
	if r.Sensors[0].OpenCounts["entries"] < 2 {
		t.Fatalf("counts before the calibration lost: %v", r.Sensors[0].OpenCounts)
	}

	// Restart from the same state dir: the calibration is loaded.
	stop()
	// The old listener closes just after Run returns: wait for it, or the
	// new daemon finds "another edge-agent" answering.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := QueryStatus(sock, 200*time.Millisecond); err != nil {
			break
		}
	}
	_, _ = runDoorWalks(t, calibrationConfig(t, dir))
	if n, thr := doorEntries(t, sock, 2500*time.Millisecond, 1); n != 0 || thr != 700 {
		t.Fatalf("after restart: %d entries, threshold %d; want 0 at 700", n, thr)
	}
	if r, err := QueryStatus(sock, time.Second); err != nil || r.Sensors[0].Calibration == nil || r.Sensors[0].Calibration.Params["threshold_mm"] != "700" {
		t.Fatalf("status after restart %+v: %v", r.Sensors, err)
	}
	// And back to a shallow one: counting again, without a restart.
	if _, err := Calibrate(sock, "door", map[string]string{"threshold_mm": "400"}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, _ := doorEntries(t, sock, 8*time.Second, 2); n < 2 {
		t.Fatalf("threshold 400: %d entries, want >= 2", n)
	}
}

// A calibration the config no longer allows is skipped at start, not fatal.
func TestCalibrationFileAtStart(t *testing.T) {
	dir := t.TempDir()
	if err := saveCalibrations(dir, map[string]Calibration{
		"door":   {Params: map[string]string{"threshold_mm": "9999"}},
		"gone":   {Params: map[string]string{"threshold_mm": "500"}},
		"street": {Params: map[string]string{"threshold_mm": "500"}},
	}); err != nil {
		t.Fatal(err)
	}
	a, err := New(calibrationConfig(t, dir), nil, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if a.specs[0].Params["threshold_mm"] != "" || a.specs[1].Params != nil {
		t.Fatalf("bad calibrations applied: %+v", a.specs)
	}
	if c := a.sensorCalibration("door"); c != nil {
		t.Fatalf("a calibration not in use is reported: %+v", c)
	}
	if err := os.WriteFile(filepath.Join(dir, calibrationFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := New(calibrationConfig(t, dir), nil, Options{Version: "test"})
	if err != nil {
		t.Fatalf("unreadable calibration file stops the daemon: %v", err)
	}
	b.Close()
}
