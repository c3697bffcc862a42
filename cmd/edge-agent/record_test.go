package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/broker"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/trace"
)

// walker is a simulated sensor for the stream tests: once gate is closed it
// walks people through, 700 ms apart, after a short quiet start, so that a
// recording started at the gate holds every crossing whole.
type walker struct {
	gate  <-chan struct{}
	kind  string // beam-pair or pulse
	walks []int  // beam: 0 entry (a then b), 1 exit; pulse: the line (in, out, pass)
}

func (w *walker) Run(ctx context.Context, emit agent.Emit) error {
	select {
	case <-w.gate:
	case <-ctx.Done():
		return nil
	}
	base := time.Now().Add(300 * time.Millisecond)
	wait := func(at time.Time) bool {
		select {
		case <-time.After(time.Until(at)):
			return true
		case <-ctx.Done():
			return false
		}
	}
	for k, walk := range w.walks {
		t := base.Add(time.Duration(k) * 700 * time.Millisecond)
		if w.kind == "pulse" {
			// A counter's pulse is reported at its end, with its start's
			// time, as the real source does: readings cross on the way.
			if !wait(t.Add(80 * time.Millisecond)) {
				return nil
			}
			emit(walk, 1, nil, t)
			emit(walk, 0, nil, t.Add(80*time.Millisecond))
			continue
		}
		first, second := walk, 1-walk
		for _, s := range []struct {
			ch   int
			v    int64
			offs time.Duration
		}{{first, 1, 0}, {second, 1, 150 * time.Millisecond}, {first, 0, 400 * time.Millisecond}, {second, 0, 550 * time.Millisecond}} {
			if !wait(t.Add(s.offs)) {
				return nil
			}
			emit(s.ch, s.v, nil, t.Add(s.offs))
		}
	}
	<-ctx.Done()
	return nil
}

const walkersYAML = `store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
log_level: warn
window: 1s
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: %q
buffer:
  flush_interval: 200ms
sensors:
  - id: door
    kind: beam-pair
    role: entrance
    pins: {a: SIM_A, b: SIM_B}
  - id: side
    kind: pulse
    role: entrance
    pins: {in: SIM_C, out: SIM_D}
  - id: street
    kind: beam-pair
    role: passerby
    pins: {a: SIM_E, b: SIM_F}
`

// startWalkers runs a daemon in-process on walker sensors, publishing to
// an embedded broker, and returns its status socket.
func startWalkers(t *testing.T, gate <-chan struct{}) string {
	t.Helper()
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	dir := t.TempDir()
	sock := filepath.Join(dir, "status.sock")
	cfg, err := config.Parse("walkers.yaml", []byte(fmt.Sprintf(walkersYAML, dir, sock, b.URL())))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	walks := map[string]*walker{
		"door":   {gate: gate, kind: "beam-pair", walks: []int{0, 0, 1, 0}},
		"side":   {gate: gate, kind: "pulse", walks: []int{0, 1, 0}},
		"street": {gate: gate, kind: "beam-pair", walks: []int{0, 1, 1, 0, 1}},
	}
	open := func(i int, sc config.SensorConfig, env *agent.SourceEnv) (agent.Source, error) {
		return walks[sc.ID], nil
	}
	startDaemon(t, cfg, agent.Options{Version: "test", OpenSource: open})
	return sock
}

// cli runs one command (record, watch: not yet registered on the root) the
// way main does, with stderr going to errw.
func cli(ctx context.Context, out, errw io.Writer, args ...string) (code int) {
	root := &cobra.Command{Use: "edge-agent", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(out)
	root.SetErr(errw)
	root.AddCommand(newRecordCmd(), newWatchCmd(), newReplayCmd())
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(errw, "edge-agent:", err)
		return exitCode(err)
	}
	return 0
}

// signalWriter collects what is written and closes seen at the first write
// containing want.
type signalWriter struct {
	mu   gosync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if w.seen != nil && strings.Contains(w.b.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func (w *signalWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// record then replay gives, per sensor, exactly the counts the live daemon
// reported over the recorded span.
func TestRecordReplayMatchesDaemon(t *testing.T) {
	gate := make(chan struct{})
	sock := startWalkers(t, gate)

	// What the daemon counts, as a client independent of record sees it.
	st, err := agent.Subscribe(sock, agent.StreamRequest{What: []string{"events"}}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	type ev struct {
		t            int64
		sensor, kind string
	}
	var evMu gosync.Mutex
	var events []ev
	go func() {
		var l agent.StreamLine
		for st.Next(&l) == nil {
			if l.Type == "event" {
				evMu.Lock()
				events = append(events, ev{l.TMs, l.Sensor, l.Event})
				evMu.Unlock()
			}
		}
	}()

	file := filepath.Join(t.TempDir(), "store.trace")
	var out bytes.Buffer
	errw := &signalWriter{want: "recording", seen: make(chan struct{})}
	seen := errw.seen
	code := make(chan int, 1)
	go func() {
		code <- cli(context.Background(), &out, errw, "record", "--socket", sock, "--duration", "5s", "--output", "json", file)
	}()
	select {
	case <-seen:
	case <-time.After(5 * time.Second):
		t.Fatalf("record did not start: %s", errw.String())
	}
	close(gate) // people walk only once record listens
	if c := <-code; c != 0 {
		t.Fatalf("record exit %d: %s", c, errw.String())
	}
	var sum recordSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}

	// The span of the file, in the daemon's t_ms.
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := trace.NewReader(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Both headers date t_ms 0 at the daemon's start (the daemon fills that
	// in before its socket answers, so an early subscriber gets it too).
	t0 := rd.Header().Start.Sub(st.Header().Start).Milliseconds()
	// The span's events reached this client's stream when they reached
	// record's, which then listened 2 s more; under load its reader may
	// still be behind: wait for the walkers' 12 events, not a fixed time.
	var live map[string]map[string]int64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		live = map[string]map[string]int64{"door": {}, "side": {}, "street": {}}
		n := 0
		evMu.Lock()
		for _, e := range events {
			if e.t >= t0 && e.t < t0+5000 {
				live[e.sensor][map[string]string{"entry": "entries", "exit": "exits", "passerby": "passersby"}[e.kind]]++
				n++
			}
		}
		evMu.Unlock()
		if n >= 12 || time.Now().After(deadline) {
			break
		}
	}

	var replayOut bytes.Buffer
	if c := cli(context.Background(), &replayOut, io.Discard, "replay", "--trace", file); c != 0 {
		t.Fatalf("replay exit %d", c)
	}
	lines := strings.Split(strings.TrimSpace(replayOut.String()), "\n")
	var summary struct {
		Sensors map[string]map[string]int64 `json:"sensors"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatal(err)
	}
	// The walkers' ground truth, the daemon's live events and the replay.
	want := map[string]map[string]int64{
		"door":   {"entries": 3, "exits": 1},
		"side":   {"entries": 2, "exits": 1},
		"street": {"passersby": 5},
	}
	for id, w := range want {
		for field, n := range w {
			if live[id][field] != n || summary.Sensors[id][field] != n {
				t.Errorf("%s %s: walked %d, daemon counted %d, replay of the recording %d", id, field, n, live[id][field], summary.Sensors[id][field])
			}
		}
	}
	if sum.Readings["door"] != 16 || sum.Readings["side"] != 6 || sum.Readings["street"] != 20 || sum.Late != 0 {
		t.Errorf("readings recorded %v", sum.Readings)
	}
	if sum.Counted["door"]["entry"] != 3 || sum.Counted["street"]["passerby"] != 5 {
		t.Errorf("record's own daemon_counted %v", sum.Counted)
	}
}

func TestRecordErrors(t *testing.T) {
	gate := make(chan struct{})
	sock := startWalkers(t, gate)
	var errb bytes.Buffer
	file := filepath.Join(t.TempDir(), "x.trace")
	if c := cli(context.Background(), io.Discard, &errb, "record", "--socket", sock, "-d", "1s", "--sensor", "dor", file); c != exitUsage ||
		!strings.Contains(errb.String(), `unknown sensor "dor" (known: door, side, street)`) {
		t.Fatalf("wrong sensor: exit %d: %s", c, errb.String())
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a file was left for a refused recording")
	}
	errb.Reset()
	if c := cli(context.Background(), io.Discard, &errb, "record", "--socket", filepath.Join(t.TempDir(), "none.sock"), "-d", "1s", file); c != exitNotRunning ||
		!strings.Contains(errb.String(), "no edge-agent daemon is running") {
		t.Fatalf("no daemon: exit %d: %s", c, errb.String())
	}
	if c := cli(context.Background(), io.Discard, io.Discard, "record", "--socket", sock, file); c != exitUsage {
		t.Fatalf("no --duration: exit %d", c)
	}
	// Only the door, to standard output, interrupted: still a valid trace.
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if c := cli(ctx, &out, io.Discard, "record", "--socket", sock, "-d", "1m", "--sensor", "door", "-"); c != 0 {
		t.Fatalf("interrupted record: exit %d", c)
	}
	rd, err := trace.NewReader(strings.NewReader(out.String()))
	if err != nil || len(rd.Header().Sensors) != 1 || rd.Header().Sensors[0].ID != "door" {
		t.Fatalf("trace %q: %v", out.String(), err)
	}
}
