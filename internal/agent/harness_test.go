package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/testutil/ledger"
	"github.com/omo-edge/edge-agent/internal/testutil/simstore"
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
	return simstore.Config{Broker: brokerURL, StateDir: stateDir, Extra: extra}.YAML()
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
type message = ledger.Message

func parseMessage(topic string, payload []byte) (message, bool) { return ledger.Parse(topic, payload) }

// collector subscribes to everything the agent publishes, like a cloud
// service would (ledger.Collector).
type collector struct{ *ledger.Collector }

func collect(t *testing.T, url, id string) collector { return collector{ledger.Collect(t, url, id)} }

func (c collector) snapshot() []message { return c.Messages() }

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
	return ledger.OutboxLeft(t, filepath.Join(stateDir, "outbox.db"))
}

// checkNothingLost asserts that every committed message (seq 1..last,
// except the first `dropped` when the outbox overflowed) was delivered or
// is still in the outbox, that a re-sent id always carried the same
// content, and (window > 0) that each sensor's windows are contiguous.
func checkNothingLost(t *testing.T, delivered, left []message, st buffer.Stats, window time.Duration) {
	t.Helper()
	ledger.CheckNothingLost(t, delivered, left, st, window)
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}
