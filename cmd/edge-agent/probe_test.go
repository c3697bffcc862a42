package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/spi"

	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/probe"
)

func TestProbeDemoGolden(t *testing.T) {
	out, errOut, code := runIn(t, nil, "probe", "--demo")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	golden(t, "probe/demo.txt", out)
	// The demo's config file probes the same.
	out2, _, code := runIn(t, nil, "probe", "--config", filepath.Join("..", "..", "configs", "demo.yaml"))
	if code != 0 || out2 != out {
		t.Fatalf("configs/demo.yaml: exit %d:\n%s", code, out2)
	}
}

func TestProbeJSONAndRecord(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "traffic.txt")
	out, errOut, code := runIn(t, nil, "probe", "--demo", "-o", "json", "--record", rec)
	if code != 0 || !strings.Contains(errOut, "bus traffic written to "+rec) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep probe.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(rep.Sensors) != 8 || !rep.OK() || rep.Sensors[0].Sensor != "door" || !rep.Sensors[0].Simulated {
		t.Fatalf("%+v", rep)
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"== sim:door I2C sim\n0x29 R 00\n0x29 W 01 0f R ea cc\n",
		"== sim:shelf-drinks SPI SIM_SPI0.0\nW 01 80 00 R ",
		"== sim:plate-snacks I2C (none)\n0x55 W 00 R 04 ",
		"== sim:member-reader I2C (none)\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("record lacks %q:\n%s", want, data)
		}
	}
}

// faultyDemo is the demo store with a wrong chip at the door and a
// floating MISO on the shelf's MCP3008.
func faultyDemo(sc config.SensorConfig) (probe.Hardware, error) {
	switch sc.ID {
	case "door":
		return &probe.Emulated{Buses: map[string]i2c.Bus{sc.Bus: vl53l1xtest.NewBus(vl53l1xtest.New(&vl53l1xtest.Options{ModelID: 0xEEAA}))}}, nil
	case "shelf-snacks":
		return &probe.Emulated{Buses: map[string]i2c.Bus{sc.Bus: vl53l1xtest.NewBus()}}, nil // nothing answers
	case "shelf-drinks":
		return &probe.Emulated{Ports: map[string]spi.Port{sc.SPI: mcp3008test.New(3.3, func(int) float64 { return 3.3 })}}, nil
	}
	return probe.Emulate(sc)
}

func TestProbeFaultsGolden(t *testing.T) {
	var out, errb bytes.Buffer
	opts := &probeOptions{demo: true, output: "text", stdout: &out, stderr: &errb, emulated: faultyDemo,
		sleep: func(time.Duration) {}}
	err := runProbe(opts)
	if exitCode(err) != exitFailure || err.Error() != "3 of 8 sensors not OK" {
		t.Fatalf("got %v (exit %d)", err, exitCode(err))
	}
	golden(t, "probe/faults.txt", out.String())
}

func TestProbeRefusesWithDaemonRunning(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "store.yaml")
	yaml := `store_id: s1
state_dir: /tmp/x
mqtt: {broker: "tcp://127.0.0.1:1883"}
sensors:
  - id: door
    kind: beam-pair
    role: entrance
    pins: {a: GPIO5, b: GPIO6}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	opts := &probeOptions{configPath: cfg, output: "text", stdout: &out, stderr: &errb,
		daemonRunning: func(*config.Config) bool { return true }}
	err := runProbe(opts)
	if exitCode(err) != exitDaemonRunning || !strings.Contains(err.Error(), "systemctl stop edge-agent") {
		t.Fatalf("got %v (exit %d)", err, exitCode(err))
	}
	// Only simulated sensors: nothing shared with the daemon, no refusal.
	opts = &probeOptions{demo: true, output: "text", stdout: &out, stderr: &errb,
		daemonRunning: func(*config.Config) bool { return true }, sleep: func(time.Duration) {}}
	if err := runProbe(opts); err != nil {
		t.Fatal(err)
	}
}

func TestProbeBadConfig(t *testing.T) {
	_, errOut, code := runIn(t, nil, "probe", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	if code != exitBadInput || !strings.Contains(errOut, "cannot read the config") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out, _, code := runIn(t, nil, "probe", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--record") {
		t.Fatalf("help: exit %d: %s", code, out)
	}
}
