package agent

import (
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/config"
)

// slowStartClock is the trusted clock of a loaded machine whose pipeline
// goroutine is slow to get going: once armed, the pipeline's first look at
// the clock (Synced is asked only by advance) waits until the test has its
// stream header, or 5 s. An agent that serves a stream before the
// pipeline's first advance hands that client the zero view.
type slowStartClock struct {
	TrustedClock
	armed   func() bool
	release chan struct{}
}

func (c *slowStartClock) Synced() bool {
	if c.armed() {
		select {
		case <-c.release:
		case <-time.After(5 * time.Second):
		}
	}
	return true
}

// checkStartView fails unless h dates t_ms 0 at the agent's start (an
// agent started now, give or take a loaded machine's minute), not at the
// Unix epoch of a view nobody filled in yet.
func checkStartView(t *testing.T, h StreamLine, started time.Time) {
	t.Helper()
	if d := h.Start.Sub(started); d < -time.Minute || d > time.Minute {
		t.Fatalf("header dates t_ms 0 at %v, the agent started at %v: a client subscribing early gets a wrong time base",
			h.Start, started.UTC())
	}
	if h.TMs < 0 || h.TMs > time.Minute.Milliseconds() {
		t.Fatalf("header t_ms %d", h.TMs)
	}
}

// A client that subscribes the moment the status socket answers gets the
// daemon's real time base, however late the pipeline goroutine runs: the
// socket serves only once the pipeline's view is filled in.
func TestStreamHeaderBeforeFirstTick(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, fmt.Sprintf(scriptedYAML, dir, dir+"/status.sock"))
	clk := &slowStartClock{release: make(chan struct{})}
	clk.armed = func() bool { _, err := os.Stat(cfg.StatusSocket); return err == nil }
	started := time.Now()
	gate := make(chan struct{})
	open := func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
		return &scriptedBeams{gate: gate}, nil
	}
	a, err := New(cfg, slog.New(slog.DiscardHandler), Options{Version: "test", Clock: clk, OpenSource: open})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	})
	var s *Stream
	waitFor(t, "the status socket", 5*time.Second, func() bool {
		s, err = Subscribe(cfg.StatusSocket, StreamRequest{What: []string{StreamEvents}}, time.Second)
		return err == nil
	})
	defer s.Close()
	close(clk.release)
	checkStartView(t, s.Header(), started)
}

// The same for the sensors read in-process (record, watch with no daemon):
// a stream opened right after OpenLocal has the real time base.
func TestLocalStreamHeaderBeforeFirstTick(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, fmt.Sprintf(scriptedYAML, dir, dir+"/status.sock"))
	var opened atomic.Bool
	clk := &slowStartClock{release: make(chan struct{}), armed: opened.Load}
	started := time.Now()
	gate := make(chan struct{})
	open := func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
		opened.Store(true) // the sensors are opened: from here the pipeline is slow
		return &scriptedBeams{gate: gate}, nil
	}
	l, err := OpenLocal(cfg, nil, Options{Version: "test", Clock: clk, OpenSource: open}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := l.Subscribe(StreamRequest{What: []string{StreamEvents}}, 2*time.Second)
	close(clk.release)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkStartView(t, s.Header(), started)
}
