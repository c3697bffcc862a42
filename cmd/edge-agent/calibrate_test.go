package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
)

// The proposal for a fixed synthetic floor: z0 a quiet 2380..2440 mm,
// z1 a noisy 2255..2535 mm with a few invalid readings, whose 117 mm
// near spread sets the threshold (4 x 117, rounded up: 470).
func TestCalibrateProposalGolden(t *testing.T) {
	var z0, z1 []int64
	for i := range 100 {
		z0 = append(z0, 2380+int64(i%61))    // 2380..2440
		z1 = append(z1, 2255+int64(i*3%281)) // 2255..2535
	}
	z1 = append(z1, -1, -1, -1, -1)
	stats := []floorStats{statsOf("z0", z0), statsOf("z1", z1)}
	p, err := propose("tof-2zone", stats)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	formatProposal(&b, agent.StreamSensor{ID: "door", Kind: "tof-2zone", Role: "entrance"}, 10*time.Second, stats, p)
	golden(t, "calibrate/proposal.golden", b.String())
	if p.Params["threshold_mm"] == "" || p.Params["baseline_z0_mm"] != fmt.Sprint(stats[0].Median) {
		t.Fatalf("proposal %v", p.Params)
	}
}

func TestCalibrateProposeRule(t *testing.T) {
	flat := func(v int64, n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	// A quiet floor gets the 300 mm floor of the rule.
	p, err := propose("tof-presence", []floorStats{statsOf("d", flat(1500, 50))})
	if err != nil || p.Params["baseline_mm"] != "1500" || p.Params["threshold_mm"] != "300" || len(p.Params) != 2 {
		t.Fatalf("quiet shelf: %v %v", p.Params, err)
	}
	// Mostly invalid readings, or a floor too close: no proposal.
	if _, err := propose("tof-2zone", []floorStats{statsOf("z0", append(flat(-1, 50), flat(2400, 20)...)), statsOf("z1", flat(2400, 50))}); err == nil || !strings.Contains(err.Error(), "z0: only 20 of 70") {
		t.Fatalf("invalid floor: %v", err)
	}
	if _, err := propose("tof-presence", []floorStats{statsOf("d", flat(450, 50))}); err == nil || !strings.Contains(err.Error(), "too close") {
		t.Fatalf("close floor: %v", err)
	}
}

// startSimDoor runs a daemon in-process on a simulated store (an emulated
// VL53L1X door read by the real driver, a simulated beam pair).
func startSimDoor(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "status.sock")
	cfg, err := config.Parse("sim.yaml", []byte(fmt.Sprintf(`store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
window: 1h
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: tcp://127.0.0.1:1
sensors:
  - id: door
    kind: tof-2zone
    role: entrance
    bus: sim
    timing_budget: 20ms
    simulate: {seed: 7, per_minute: 20}
  - id: street
    kind: beam-pair
    role: passerby
    pins: {a: SIM_A, b: SIM_B}
    simulate: {seed: 8, per_minute: 60}
`, dir, sock)))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, cfg, agent.Options{Version: "test"})
	return sock
}

// calibrateCLI runs calibrate the way main does, with stdin and whether
// it is a terminal chosen by the test.
func calibrateCLI(stdin io.Reader, tty bool, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	root := &cobra.Command{Use: "edge-agent", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(stdin)
	root.AddCommand(newCalibrateCmdWith(&calibrateOptions{isTerminal: func(io.Reader) bool { return tty }}))
	root.SetArgs(append([]string{"calibrate"}, args...))
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errb, "edge-agent:", err)
		return out.String(), errb.String(), exitCode(err)
	}
	return out.String(), errb.String(), 0
}

func TestCalibrateAgainstSimulatedStore(t *testing.T) {
	sock := startSimDoor(t)
	calibration := func() *agent.Calibration {
		r, err := agent.QueryStatus(sock, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return r.Sensors[0].Calibration
	}

	// No terminal, no --yes: the proposal only.
	out, errs, code := calibrateCLI(strings.NewReader(""), false, "door", "--socket", sock, "--idle", "1s")
	if code != 0 || !strings.Contains(out, "baseline_z0_mm") || !strings.Contains(out, "not applied: no terminal") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	if c := calibration(); c != nil {
		t.Fatalf("applied without being asked: %+v", c)
	}

	// --yes: applied, the daemon shows it.
	out, errs, code = calibrateCLI(strings.NewReader(""), false, "door", "--socket", sock, "--idle", "1s", "--yes")
	if code != 0 || !strings.Contains(out, "proposal:") || !strings.Contains(out, "applied to the running daemon") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	t.Logf("calibrate door --yes:\n%s", out)
	c := calibration()
	if c == nil || c.Params["baseline_z0_mm"] == "" || c.Params["baseline_z1_mm"] == "" || c.Params["threshold_mm"] == "" {
		t.Fatalf("status calibration %+v", c)
	}

	// On a terminal: the walk test runs (short here), then the answer.
	out, errs, code = calibrateCLI(strings.NewReader("n\n"), true, "door", "--socket", sock, "--idle", "1s", "--walk", "1s", "-o", "json")
	var rep calibrateReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Applied || len(rep.Floor) != 2 || rep.Floor[0].Median < 200 {
		t.Fatalf("exit %d: %s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "walk in 5 times, then out 5 times") || !strings.Contains(errs, "apply? [y/N]") {
		t.Fatalf("walk test and question not shown:\n%s", errs)
	}

	// Refusals.
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nope", "--socket", sock, "--idle", "1s"}, exitUsage, `unknown sensor "nope"`},
		{[]string{"door", "--socket", sock + ".none", "--idle", "1s"}, exitNotRunning, "no edge-agent daemon is running"},
		{[]string{"door", "--socket", sock, "--idle", "0s"}, exitUsage, "--idle"},
	} {
		_, errs, code := calibrateCLI(strings.NewReader(""), false, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("calibrate %v: exit %d, want %d with %q:\n%s", c.args, code, c.code, c.want, errs)
		}
	}
}

// The door's two ROI zones are judged from their idle floors.
func TestZoneAdvice(t *testing.T) {
	floor := func(ch string, med int64, inv float64) floorStats {
		return floorStats{Channel: ch, Median: med, Invalid: inv}
	}
	cases := []struct {
		stats []floorStats
		want  string
	}{
		{[]floorStats{floor("z0", 2400, 0), floor("z1", 2380, 0.01)}, "OK: both zones"},
		{[]floorStats{floor("z0", 2400, 0), floor("z1", 1900, 0)}, "z1 likely sees the door frame"},
		{[]floorStats{floor("z0", 2400, 0.3), floor("z1", 2410, 0)}, "z0 has 30% invalid"},
	}
	for _, c := range cases {
		if got := zoneAdvice(c.stats); !strings.Contains(got, c.want) {
			t.Errorf("zoneAdvice(%v) = %q, want it to say %q", c.stats, got, c.want)
		}
	}
}
