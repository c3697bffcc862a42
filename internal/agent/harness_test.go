package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/config"
)

// childEnv names the config a re-executed test binary runs as a daemon
// (for the SIGKILL tests: a real process to kill).
const childEnv = "EDGE_AGENT_TEST_DAEMON"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

func runChild(path string) int {
	cfg, err := config.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := New(cfg, log, Options{Version: "test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// simStoreYAML is a small simulated store with fast windows.
func simStoreYAML(brokerURL, stateDir, extra string) string {
	return fmt.Sprintf(`store_id: test-store
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
`, stateDir, filepath.Join(stateDir, "status.sock"), brokerURL, extra)
}

func loadConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runAgent runs an agent in-process; stop cancels it and waits.
func runAgent(t *testing.T, cfg *config.Config) (a *Agent, stop func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := New(cfg, log, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once gosync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// message is one window message as the cloud sees it.
type message struct {
	Topic       string
	ID          string `json:"id"`
	Seq         uint64 `json:"seq"`
	Type        string `json:"type"`
	Sensor      string `json:"sensor"`
	WindowStart string `json:"window_start"`
	Historical  bool   `json:"historical"`
	body        string // the payload without the historical flag
}

func parseMessage(topic string, payload []byte) (message, bool) {
	var m message
	if json.Unmarshal(payload, &m) != nil || m.ID == "" {
		return m, false
	}
	m.Topic = topic
	m.body = strings.Replace(string(payload), `,"historical":true`, "", 1)
	return m, true
}

// collector subscribes to everything the agent publishes, like a cloud
// service would, with a persistent session so a broker restart loses
// nothing on its side.
type collector struct {
	mu   gosync.Mutex
	msgs []message
	cl   mqtt.Client
}

func collect(t *testing.T, url, id string) *collector {
	t.Helper()
	c := &collector{}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetOrderMatters(true)
	o.SetOnConnectHandler(func(cl mqtt.Client) {
		cl.Subscribe("edge-agent/#", 1, func(_ mqtt.Client, m mqtt.Message) {
			if msg, ok := parseMessage(m.Topic(), m.Payload()); ok {
				c.mu.Lock()
				c.msgs = append(c.msgs, msg)
				c.mu.Unlock()
			}
		})
	})
	c.cl = mqtt.NewClient(o)
	tok := c.cl.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("collector connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.cl.Disconnect(100) })
	return c
}

func (c *collector) snapshot() []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]message(nil), c.msgs...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outboxLeft opens the stopped agent's outbox and returns what it still
// holds, and its stats.
func outboxLeft(t *testing.T, stateDir string) ([]message, buffer.Stats) {
	t.Helper()
	ob, err := buffer.Open(filepath.Join(stateDir, "outbox.db"), buffer.DefaultOptions(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	recs, err := ob.Pending(0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var out []message
	for _, r := range recs {
		m, ok := parseMessage(r.Topic, r.Payload)
		if !ok {
			t.Fatalf("outbox record %d is not a message: %s", r.Seq, r.Payload)
		}
		if m.Seq != r.Seq {
			t.Fatalf("outbox record %d carries seq %d", r.Seq, m.Seq)
		}
		out = append(out, m)
	}
	return out, ob.Stats()
}

// checkNothingLost asserts that every committed message (seq 1..last,
// except the first `dropped` when the outbox overflowed) was delivered or
// is still in the outbox, that a re-sent id always carried the same
// content, and (window > 0) that each sensor's windows are contiguous.
func checkNothingLost(t *testing.T, delivered, left []message, st buffer.Stats, window time.Duration) {
	t.Helper()
	byID := map[string]string{}
	bySeq := map[uint64]message{}
	for _, m := range append(append([]message(nil), delivered...), left...) {
		if prev, ok := byID[m.ID]; ok && prev != m.body {
			t.Fatalf("id %s was sent with two contents:\n%s\n%s", m.ID, prev, m.body)
		}
		byID[m.ID] = m.body
		if prev, ok := bySeq[m.Seq]; ok && prev.ID != m.ID {
			t.Fatalf("seq %d used by %s and %s", m.Seq, prev.ID, m.ID)
		}
		bySeq[m.Seq] = m
	}
	if st.LastSeq == 0 {
		t.Fatal("nothing was ever committed")
	}
	missing := 0
	for s := st.Dropped + 1; s <= st.LastSeq; s++ {
		if _, ok := bySeq[s]; !ok {
			missing++
			if missing < 5 {
				t.Errorf("seq %d committed but neither delivered nor in the outbox", s)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d committed messages lost (of %d)", missing, st.LastSeq)
	}
	if window == 0 {
		return
	}
	// Each sensor's windows follow each other with no hole.
	starts := map[string][]time.Time{}
	for _, m := range bySeq {
		if m.Seq <= st.Dropped || m.Type != "sensor_window" {
			continue
		}
		ts, err := time.Parse(time.RFC3339, m.WindowStart)
		if err != nil {
			t.Fatal(err)
		}
		starts[m.Sensor] = append(starts[m.Sensor], ts)
	}
	for s, ts := range starts {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d != window {
				t.Fatalf("sensor %s: windows %s and %s are %v apart, want %v", s, ts[i-1], ts[i], d, window)
			}
		}
	}
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}
