package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
)

// feedLevels plays "t:v" changes (ms, 0/1) into a levelLog.
func feedLevels(l *levelLog, changes ...[2]int64) {
	for _, c := range changes {
		l.set(c[1] != 0, c[0])
	}
}

func TestLevelLogSpans(t *testing.T) {
	var l levelLog
	// A first reading only says the level; repeats are not changes.
	feedLevels(&l, [2]int64{100, 0}, [2]int64{150, 0}, [2]int64{200, 1}, [2]int64{600, 0}, [2]int64{610, 1}, [2]int64{612, 0}, [2]int64{900, 1})
	if fmt.Sprint(l.spans) != "[400 2]" || fmt.Sprint(l.gaps) != "[10 288]" || l.changes != 5 || !l.level || l.held(1000) != 100 {
		t.Fatalf("spans %v gaps %v changes %d level %v", l.spans, l.gaps, l.changes, l.level)
	}
	var a, b levelLog
	feedLevels(&a, [2]int64{0, 1})
	if got := beamLine(&a, &b, 3500); got != "a ■ blocked 3.5s   b ? (no change seen yet)" {
		t.Fatalf("beam line %q", got)
	}
	if p := stuckProblem("a", &a, 3500); !strings.Contains(p, "misaligned") || !strings.Contains(p, "wrong active_low") {
		t.Fatalf("stuck: %q", p)
	}
	if p := stuckProblem("a", &a, 2999); p != "" {
		t.Fatalf("not yet stuck: %q", p)
	}
}

func TestProposeDebounceRule(t *testing.T) {
	for _, c := range []struct {
		blocks  []int64
		current int64
		want    int64
	}{
		{[]int64{400, 380, 420, 390}, 6, 30},           // slow walkers: capped at 30
		{[]int64{40, 60, 50, 45}, 6, 10},               // runners: 40/4
		{[]int64{40, 60, 50, 45}, 10, 0},               // already fits
		{[]int64{8, 2, 12, 60, 64, 70, 66}, 6, 15},     // 60/4, above the 12 ms glitch
		{[]int64{3, 4, 16, 100, 120, 110, 130}, 6, 25}, // 100/4
		{[]int64{400, 380}, 6, 0},                      // too few blocks
		{[]int64{4, 5, 4, 4, 4, 4}, 6, 0},              // glitches only
	} {
		p := proposeDebounce(c.blocks, c.current)
		if p.DebounceMs != c.want {
			t.Errorf("proposeDebounce(%v, %d) = %d (%s), want %d", c.blocks, c.current, p.DebounceMs, p.why, c.want)
		}
	}
	// A long glitch lifts the debounce above it.
	if p := proposeDebounce([]int64{19, 30, 40, 50, 60}, 6); p.DebounceMs != 20 || p.Glitches != 1 {
		t.Fatalf("long glitch: %+v", p)
	}
}

func TestProposeBridgeRule(t *testing.T) {
	body := func(s int64, gaps ...int64) [][2]int64 { // a 300 ms walk from s with gaps inside
		out, at := [][2]int64{}, s
		for _, g := range gaps {
			out = append(out, [2]int64{at, at + 60})
			at += 60 + g
		}
		return append(out, [2]int64{at, s + 300})
	}
	for _, c := range []struct {
		name    string
		beams   [2][][2]int64
		current int64
		want    int64
		tooLong bool
	}{
		{"clean walks", [2][][2]int64{append(body(0), body(2000)...), body(100)}, 45, 0, false},
		{"a 40 ms gap needs 50", [2][][2]int64{append(body(0, 12, 40), body(2000, 6)...), body(100, 30)}, 45, 50, false},
		{"gaps up to 20 ms fit 45", [2][][2]int64{body(0, 12, 20), body(100, 8)}, 45, 0, false},
		{"a hand's gap is not the body's", [2][][2]int64{{{0, 20}, {90, 400}}, body(2000, 10)}, 20, 0, false},
		{"too long: capped", [2][][2]int64{body(0, 120), nil}, 45, 100, true},
		{"off: at least 20", [2][][2]int64{body(0, 3), nil}, 0, 20, false},
	} {
		p := proposeBridge(c.beams, c.current, 40)
		if p.BridgeMs != c.want || p.TooLong != c.tooLong {
			t.Errorf("%s: %+v, want bridge_ms %d (too long %v)", c.name, p, c.want, c.tooLong)
		}
	}
	// Walks' blocks for the debounce rule: bridged, the hand left out.
	if got := fmt.Sprint(bodyBlocks([2][][2]int64{{{0, 20}, {90, 400}, {420, 500}, {3000, 3003}}, nil}, 40)); got != "[410 3]" {
		t.Errorf("body blocks %s, want [410 3]", got)
	}
}

func TestProposeHoldRule(t *testing.T) {
	for _, c := range []struct {
		highs   []int64
		current int64
		want    int64
	}{
		{[]int64{5200, 1290, 1350}, 3000, 1200}, // the module's Tx is short
		{[]int64{3100, 2950, 8000}, 3000, 0},    // fits
		{[]int64{2400}, 3000, 2400},             // 600 ms and 20 % off
		{[]int64{2600}, 3000, 0},                // 400 ms: within the rule
		{nil, 3000, 0},
	} {
		if p := proposeHold(c.highs, c.current); p.HoldMs != c.want {
			t.Errorf("proposeHold(%v, %d) = %d, want %d", c.highs, c.current, p.HoldMs, c.want)
		}
	}
}

func TestTapGroupsAndMerge(t *testing.T) {
	// Three taps: one clean, one flickering (gaps 300 and 900 ms), one of
	// a phone swept past (40 ms).
	ons := []int64{500, 200, 150, 300, 40}
	gaps := []int64{4000, 300, 900, 3500}
	g := tapGroups(ons, gaps, 200)
	if len(g) != 3 || g[1].Fields != 3 || g[1].LongestGap != 900 || g[1].LongestOn != 300 || g[2].LongestOn != 40 {
		t.Fatalf("groups %+v", g)
	}
	p := proposeMerge(g, 200, 80)
	if p.MergeMs != 1400 || p.short != 1 {
		t.Fatalf("merge %+v", p)
	}
	if p := proposeMerge(g, 1500, 80); p.MergeMs != 0 {
		t.Fatalf("merge 1500 fits a 900 ms flicker: %+v", p)
	}
}

// The reports for fixed measurements.
func TestCalibrateLevelReportsGolden(t *testing.T) {
	var b bytes.Buffer
	var a, bb levelLog
	// a: a walk with gaps of 38 and 2 ms inside, a 3 ms glitch, a clean
	// walk; b: a hand 35 ms ahead of the body, then two clean walks.
	feedLevels(&a, [2]int64{0, 0}, [2]int64{1000, 1}, [2]int64{1200, 0}, [2]int64{1238, 1}, [2]int64{1400, 0}, [2]int64{1402, 1}, [2]int64{1405, 0},
		[2]int64{2000, 1}, [2]int64{2003, 0}, [2]int64{3000, 1}, [2]int64{3380, 0})
	feedLevels(&bb, [2]int64{0, 0}, [2]int64{1100, 1}, [2]int64{1115, 0}, [2]int64{1150, 1}, [2]int64{1550, 0}, [2]int64{2850, 1}, [2]int64{3250, 0})
	beams := [2][][2]int64{a.blocks, bb.blocks}
	dp := proposeDebounce(bodyBlocks(beams, 40), 6)
	formatBeamReport(&b, levelReport{Sensor: "door", OK: true, Counts: map[string]int{"entry": 5, "exit": 5}}, dp, 6, proposeBridge(beams, 45, 40), 45)
	var stuck levelLog
	feedLevels(&stuck, [2]int64{0, 0}, [2]int64{120, 1})
	formatBeamReport(&b, levelReport{Sensor: "door", Problems: []string{stuckProblem("a", &stuck, 9000+3380)}, Counts: map[string]int{}}, proposeDebounce(nil, 6), 6, proposeBridge([2][][2]int64{}, 45, 40), 45)
	hp := proposeHold([]int64{5200, 1290, 1350}, 3000)
	formatPIRReport(&b, levelReport{Sensor: "shelf-pir", OK: true, Counts: map[string]int{"stop_by": 1}}, hp, 3000)
	mp := proposeMerge(tapGroups([]int64{500, 200, 150, 300, 40}, []int64{4000, 300, 900, 3500}, 200), 200, 80)
	formatPlateReport(&b, levelReport{Sensor: "plate-1", OK: true, Counts: map[string]int{"tap": 4}}, mp, 200, 80)
	formatCheckinReport(&b, levelReport{Sensor: "reader", OK: true, Counts: map[string]int{"checkin": 1}}, 3, []string{"9f86d081"})
	golden(t, "calibrate/levels.golden", b.String())
}

// script is a sensor source playing fixed changes once gate is closed:
// at[i] after the start, channel ch[i] takes v[i] (or reads tok[i]).
type script struct {
	gate <-chan struct{}
	at   []time.Duration
	ch   []int
	v    []int64
	tok  [][]byte
}

func (s *script) Run(ctx context.Context, emit agent.Emit) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil
	}
	base := time.Now().Add(500 * time.Millisecond)
	for i := range s.at {
		t := base.Add(s.at[i])
		select {
		case <-time.After(time.Until(t)):
		case <-ctx.Done():
			return nil
		}
		var tok []byte
		if s.tok != nil {
			tok = s.tok[i]
		}
		emit(s.ch[i], s.v[i], tok, t)
	}
	<-ctx.Done()
	return nil
}

// beamWalks scripts walks through a beam pair: 0 an entry (a then b), 1 an
// exit, 700 ms apart, each beam blocked 400 ms.
func beamWalks(gate <-chan struct{}, walks ...int) *script {
	s := &script{gate: gate}
	for k, w := range walks {
		t := time.Duration(k) * 700 * time.Millisecond
		for _, st := range []struct {
			ch   int
			v    int64
			offs time.Duration
		}{{w, 1, 0}, {1 - w, 1, 150 * time.Millisecond}, {w, 0, 400 * time.Millisecond}, {1 - w, 0, 550 * time.Millisecond}} {
			s.at, s.ch, s.v = append(s.at, t+st.offs), append(s.ch, st.ch), append(s.v, st.v)
		}
	}
	return s
}

// withGap clears channel ch from..to ms after the script's start (the
// channel must be blocked then), keeping the script in time order.
func (s *script) withGap(ch int, from, to time.Duration) *script {
	for _, c := range []struct {
		at time.Duration
		v  int64
	}{{from * time.Millisecond, 0}, {to * time.Millisecond, 1}} {
		i := 0
		for i < len(s.at) && s.at[i] <= c.at {
			i++
		}
		s.at, s.ch, s.v = slices.Insert(s.at, i, c.at), slices.Insert(s.ch, i, ch), slices.Insert(s.v, i, c.v)
	}
	return s
}

// levels scripts one line: ms offsets with their levels.
func levels(gate <-chan struct{}, steps ...[2]int64) *script {
	s := &script{gate: gate}
	for _, st := range steps {
		s.at, s.ch, s.v = append(s.at, time.Duration(st[0])*time.Millisecond), append(s.ch, 0), append(s.v, st[1])
	}
	return s
}

const scriptedYAML = `store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
log_level: warn
window: 1h
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: tcp://127.0.0.1:1
nfc:
  plate_secret_file: %q
  pseudonym_secret_file: %q
  base_url: https://c.example.com/t
sensors:
  - id: door
    kind: beam-pair
    role: entrance
    pins: {a: SIM_A, b: SIM_B}
  - id: shelf-pir
    kind: pir
    role: shelf
    pins: {motion: SIM_C}
    params: {hold_ms: "3000"}
  - id: plate-1
    kind: nfc-plate
    role: plate
    params: {merge_ms: "200"}
    simulate: {seed: 1, per_minute: 1}
  - id: reader
    kind: nfc-reader
    role: checkin
    simulate: {seed: 2, per_minute: 1}
  - id: side
    kind: pulse
    role: entrance
    pins: {in: SIM_D, out: SIM_E}
`

// startScripted runs a daemon in-process on scripted sensors and returns
// its status socket.
func startScripted(t *testing.T, sources map[string]agent.Source) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "status.sock")
	secret, pseud := filepath.Join(dir, "plate.secret"), filepath.Join(dir, "pseudonym.secret")
	_ = os.WriteFile(secret, []byte("plate secret of the calibrate test store\n"), 0o600)
	_ = os.WriteFile(pseud, []byte("pseudonym secret of the calibrate test\n"), 0o600)
	cfg, err := config.Parse("scripted.yaml", []byte(fmt.Sprintf(scriptedYAML, dir, sock, secret, pseud)))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	idle := make(chan struct{}) // never closed: a sensor nobody uses
	open := func(i int, sc config.SensorConfig, env *agent.SourceEnv) (agent.Source, error) {
		if s, ok := sources[sc.ID]; ok {
			return s, nil
		}
		return &script{gate: idle}, nil
	}
	startDaemon(t, cfg, agent.Options{Version: "test", OpenSource: open})
	return sock
}

func calibrationOf(t *testing.T, sock, id string) *agent.Calibration {
	t.Helper()
	r, err := agent.QueryStatus(sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sensors {
		if s.ID == id {
			return s.Calibration
		}
	}
	t.Fatalf("no sensor %s in status", id)
	return nil
}

// Every level kind against the daemon: beams without a terminal (alignment
// watched while people cross, --yes applies the debounce), a stuck beam,
// the PIR and plate tests on a "terminal" answering y, the card test, and
// a pulse counter refused.
func TestCalibrateLevelSensorsAgainstDaemon(t *testing.T) {
	gates := map[string]chan struct{}{}
	gate := func(id string) chan struct{} { gates[id] = make(chan struct{}); return gates[id] }
	stuckGate := make(chan struct{})
	tok := []byte{0x9f, 0x86, 0xd0, 0x81, 0x88, 0x4c, 0x7d, 0x65}
	sock := startScripted(t, map[string]agent.Source{
		// The first walk's body clears beam a for 40 ms (arm and torso).
		"door": beamWalks(gate("door"), 0, 1, 0, 1).withGap(0, 200, 240),
		// Short highs: the module's hold is 1.2 s, not the configured 3 s.
		"shelf-pir": levels(gate("shelf-pir"), [2]int64{0, 1}, [2]int64{1250, 0}, [2]int64{1500, 1}, [2]int64{2800, 0}, [2]int64{3100, 1}, [2]int64{4300, 0}),
		// Tap 2 flickers with a 300 ms gap, over merge_ms 200.
		"plate-1": levels(gate("plate-1"), [2]int64{0, 1}, [2]int64{300, 0}, [2]int64{3400, 1}, [2]int64{3600, 0}, [2]int64{3900, 1}, [2]int64{4200, 0}, [2]int64{7300, 1}, [2]int64{7600, 0}),
		"reader":  &script{gate: gate("reader"), at: []time.Duration{0, 100 * time.Millisecond}, ch: []int{0, 0}, v: []int64{0, 0}, tok: [][]byte{tok, tok}},
		"side":    &script{gate: stuckGate},
	})

	close(gates["door"]) // the script starts 500 ms after: calibrate has subscribed
	out, errs, code := calibrateCLI(strings.NewReader(""), false, "door", "--socket", sock, "--idle", "3500ms", "--yes")
	if code != 0 || !strings.Contains(errs+out, "a ■ blocked") || !strings.Contains(out, "door (beam-pair): OK") ||
		!strings.Contains(out, "debounce_ms 30") || !strings.Contains(out, "bridge_ms 5") || !strings.Contains(out, "applied to the running daemon") {
		t.Fatalf("beam: exit %d:\n%s%s", code, out, errs)
	}
	// The 40 ms gap, as the daemon's clock saw it, + 10 ms, rounded up to 5.
	if c := calibrationOf(t, sock, "door"); c == nil || c.Params["debounce_ms"] != "30" || len(c.Params) != 2 ||
		c.Params["bridge_ms"] < "50" || c.Params["bridge_ms"] > "60" {
		t.Fatalf("beam calibration %+v", c)
	}

	close(gates["shelf-pir"]) // the script starts 500 ms after: calibrate has subscribed
	out, errs, code = calibrateCLI(strings.NewReader("y\n"), true, "shelf-pir", "--socket", sock, "--walk", "10s", "-o", "json")
	var rep levelReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.OK || rep.Proposal["hold_ms"] != "1200" || !rep.Applied {
		t.Fatalf("pir: exit %d: %s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "stand in front of the shelf") || !strings.Contains(errs, "apply? [y/N]") {
		t.Fatalf("pir test not shown:\n%s", errs)
	}
	if c := calibrationOf(t, sock, "shelf-pir"); c == nil || c.Params["hold_ms"] != "1200" {
		t.Fatalf("pir calibration %+v", c)
	}

	close(gates["plate-1"]) // the script starts 500 ms after: calibrate has subscribed
	out, errs, code = calibrateCLI(strings.NewReader("y\n"), true, "plate-1", "--socket", sock, "--walk", "20s")
	if code != 0 || !strings.Contains(out, "tap 2: 2 field on/off, longest field 300 ms, longest flicker gap 300 ms") ||
		!strings.Contains(out, "merge_ms 500") || !strings.Contains(out, "applied to the running daemon") {
		t.Fatalf("plate: exit %d:\n%s%s", code, out, errs)
	}

	close(gates["reader"]) // the script starts 500 ms after: calibrate has subscribed
	out, errs, code = calibrateCLI(strings.NewReader(""), true, "reader", "--socket", sock, "--walk", "5s")
	if code != 0 || !strings.Contains(out, "card reads:") || !strings.Contains(out, "checkin=1") {
		t.Fatalf("reader: exit %d:\n%s%s", code, out, errs)
	}
	// Only a prefix of the (pseudonymized) token is shown.
	for _, line := range strings.Split(out+errs, "\n") {
		for _, f := range strings.Fields(line) {
			if len(strings.TrimSuffix(f, "…")) > tokenPrefix && isHex(strings.TrimSuffix(f, "…")) {
				t.Fatalf("a token longer than its prefix is shown: %q", line)
			}
		}
	}

	_, errs, code = calibrateCLI(strings.NewReader(""), false, "side", "--socket", sock, "--idle", "1s")
	if code != exitBadInput || !strings.Contains(errs, "calibrate has no test for it") {
		t.Fatalf("pulse: exit %d: %s", code, errs)
	}
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return s != ""
}

// A beam blocked throughout alignment is reported, exit 1, nothing applied.
func TestCalibrateBeamStuck(t *testing.T) {
	open := make(chan struct{})
	close(open)
	sock := startScripted(t, map[string]agent.Source{"door": levels(open, [2]int64{0, 0}, [2]int64{50, 1})})
	out, errs, code := calibrateCLI(strings.NewReader(""), true, "door", "--socket", sock, "--idle", "4s", "--yes")
	if code != exitFailure || !strings.Contains(out, "NOT OK") || !strings.Contains(errs, "misaligned") || strings.Contains(out, "applied") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	if c := calibrationOf(t, sock, "door"); c != nil {
		t.Fatalf("applied: %+v", c)
	}
}

// childCalibrateEnv makes TestCalibrateChild run calibrate on the terminal
// tmux gives it (the test binary is re-run with -test.run).
const childCalibrateEnv = "EDGE_AGENT_TEST_CALIBRATE_SOCKET"

func TestCalibrateChild(t *testing.T) {
	sock := os.Getenv(childCalibrateEnv)
	if sock == "" {
		t.Skip("run by TestCalibrateBeamTerminal in tmux")
	}
	os.Exit(cli2calibrate(sock))
}

func cli2calibrate(sock string) int {
	var code int
	root := newCalibrateCmd()
	root.SetArgs([]string{"door", "--socket", sock, "--idle", "1s", "--walk", "30s"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "edge-agent:", err)
		code = exitCode(err)
	}
	fmt.Printf("[exit %d]\n", code)
	time.Sleep(time.Hour) // the parent reads the screen, then kills the session
	return code
}

// The beam walk test on a real pseudo-terminal: alignment, the walk test
// counting live, the proposal, y answered by send-keys, applied.
func TestCalibrateBeamTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: the terminal test needs it (apt-get install tmux)")
	}
	gate := make(chan struct{})
	sock := startScripted(t, map[string]agent.Source{"door": beamWalks(gate, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1)})
	session := fmt.Sprintf("edge-agent-calibrate-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmux("new-session", "-d", "-x", "120", "-y", "50", "-s", session, "-e", childCalibrateEnv+"="+sock,
		self, "-test.run", "^TestCalibrateChild$")
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	screen := func() string { return tmux("capture-pane", "-p", "-S", "-200", "-t", session) }
	waitScreen := func(what string, ok func(string) bool) string {
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %s:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitScreen("the walk test", func(s string) bool { return strings.Contains(s, "walk in 5 times, then out 5 times") })
	close(gate) // people walk through now
	s := waitScreen("the question", func(s string) bool { return strings.Contains(s, "apply? [y/N]") })
	for _, want := range []string{"entry 5/5  exit 5/5", "door (beam-pair): OK", "debounce_ms 30"} {
		if !strings.Contains(s, want) {
			t.Fatalf("screen lacks %q:\n%s", want, s)
		}
	}
	tmux("send-keys", "-t", session, "y", "Enter")
	s = waitScreen("the result", func(s string) bool { return strings.Contains(s, "[exit ") })
	if !strings.Contains(s, "applied to the running daemon") || !strings.Contains(s, "[exit 0]") {
		t.Fatalf("not applied:\n%s", s)
	}
	if c := calibrationOf(t, sock, "door"); c == nil || c.Params["debounce_ms"] != "30" {
		t.Fatalf("calibration %+v", c)
	}
}
