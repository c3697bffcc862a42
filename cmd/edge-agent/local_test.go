package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/configs"
	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/trace"
)

// demoConfigFile writes the demo's simulated store as a config file whose
// state directory and status socket are the test's, with no daemon on it.
func demoConfigFile(t *testing.T) (path, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	y := strings.Replace(string(configs.Demo), `state_dir: ""`, fmt.Sprintf("state_dir: %q\nstatus_socket: %q", dir, filepath.Join(dir, "status.sock")), 1)
	y = strings.Replace(y, `broker: ""`, `broker: "tcp://127.0.0.1:1"`, 1)
	path = filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path, dir
}

const localNotice = "daemon not running: reading the sensors directly"

// watch --once with no daemon: the demo's sensors are read directly.
func TestWatchLocal(t *testing.T) {
	cfgPath, dir := demoConfigFile(t)
	var out, errb bytes.Buffer
	if c := cli(context.Background(), &out, &errb, "watch", "-c", cfgPath, "--once"); c != 0 {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	if !strings.Contains(errb.String(), localNotice) {
		t.Fatalf("stderr lacks the notice: %q", errb.String())
	}
	for _, want := range []string{"store demo-store", "door", "shelf-snacks", "member-reader", "not publishing", "entry rate since watch"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("frame lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox.db")); err == nil {
		t.Fatal("watch opened the outbox")
	}
}

// record with no daemon: a trace of the sensors read directly, which
// replay reads back.
func TestRecordLocal(t *testing.T) {
	cfgPath, dir := demoConfigFile(t)
	file := filepath.Join(dir, "door.trace")
	var out, errb bytes.Buffer
	if c := cli(context.Background(), &out, &errb, "record", "-c", cfgPath, "-d", "1500ms", "--sensor", "door", "--sensor", "street", file); c != 0 {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	if !strings.Contains(errb.String(), localNotice) || !strings.Contains(errb.String(), "from the sensors (read directly)") {
		t.Fatalf("stderr %q", errb.String())
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := trace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	// Dated now, not at the epoch of a pipeline view not yet filled in.
	if h := rd.Header(); len(h.Sensors) != 2 || h.Sensors[0].ID != "door" || h.Sensors[1].ID != "street" || time.Since(h.Start) > time.Hour {
		t.Fatalf("header %+v", h)
	}
	n := 0
	for {
		var r sensor.Reading
		if err := rd.Next(&r); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n < 40 { // 1.5 s of a door sensor ranging every 20 ms
		t.Fatalf("%d readings", n)
	}
}

// A sensor whose bus cannot be opened: a clear message naming the sensor
// and the bus, exit 1, from every command.
func TestLocalBusCannotOpen(t *testing.T) {
	if _, err := os.Stat("/dev/i2c-1"); err == nil {
		t.Skip("this machine has an I2C bus 1")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "hw.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`store_id: s
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
`, dir, filepath.Join(dir, "status.sock"))), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"watch", "-c", path, "--once"},
		{"record", "-c", path, "-d", "1s", filepath.Join(dir, "x.trace")},
	} {
		var errb bytes.Buffer
		c := cli(context.Background(), io.Discard, &errb, args...)
		if c != exitFailure || !strings.Contains(errb.String(), "sensor door (tof-2zone on I2C bus 1)") || !strings.Contains(errb.String(), `I2C bus "1" cannot be opened`) {
			t.Errorf("%v: exit %d: %s", args, c, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.trace")); err == nil {
		t.Error("record left a file for sensors it could not open")
	}
	// No daemon and no readable config: exit 3.
	var errb bytes.Buffer
	if c := cli(context.Background(), io.Discard, &errb, "watch", "-c", filepath.Join(dir, "none.yaml"), "--once"); c != exitBadInput ||
		!strings.Contains(errb.String(), "cannot be read directly") {
		t.Errorf("no config: exit %d: %s", c, errb.String())
	}
}

// With a daemon on the config's socket, the commands use it, not the
// buses.
func TestLocalPrefersDaemon(t *testing.T) {
	cfgPath, _ := demoConfigFile(t)
	cfg, err := config.Load(cfgPath)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, cfg, agent.Options{Version: "test"})
	var out, errb bytes.Buffer
	if c := cli(context.Background(), &out, &errb, "watch", "-c", cfgPath, "--once"); c != 0 {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	if strings.Contains(errb.String(), localNotice) || strings.Contains(out.String(), "not publishing") || !strings.Contains(out.String(), "store demo-store") {
		t.Fatalf("watch did not use the daemon:\n%s%s", out.String(), errb.String())
	}
}

// calibrate --yes with no daemon: the door read directly, the calibration
// saved in the state directory for the daemon's next start.
func TestCalibrateLocal(t *testing.T) {
	cfgPath, dir := demoConfigFile(t)
	out, errs, code := calibrateCLI(strings.NewReader(""), false, "door", "-c", cfgPath, "--idle", "1500ms", "--yes")
	file := filepath.Join(dir, "calibration.json")
	if code != 0 || !strings.Contains(errs+out, localNotice) || !strings.Contains(out, "proposal:") ||
		!strings.Contains(out, "saved in "+file) || !strings.Contains(out, "next start") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), `"door"`) || !strings.Contains(string(b), "baseline_z0_mm") {
		t.Fatalf("calibration file %q: %v", b, err)
	}
}
