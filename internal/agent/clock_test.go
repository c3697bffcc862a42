package agent

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/broker"
)

// fakeClock is the host clock with a wall clock that can be unsynchronized
// and stepped, as on a Pi that boots without an RTC and then gets NTP.
type fakeClock struct {
	synced atomic.Bool
	offset atomic.Int64 // ns added to the wall clock
}

func (c *fakeClock) Now() time.Time  { return time.Now() }
func (c *fakeClock) Wall() time.Time { return time.Now().Round(0).Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) Synced() bool    { return c.synced.Load() }

// Until the clock is synchronized nothing is published; once it is, the
// windows carry wall-clock times; a later step of the clock (back an hour)
// neither reopens reported windows nor loses the agent.
func TestAgentWaitsForClockThenSurvivesStep(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := collect(t, b.URL(), "cloud-clock")
	dir := t.TempDir()
	cfg := loadConfig(t, simStoreYAML(b.URL(), dir, ""))
	clk := &fakeClock{}
	clk.offset.Store(int64(-48 * time.Hour)) // fake-hwclock's stale time
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := contextWithCancel(t)
	go func() { done <- a.Run(ctx) }()

	time.Sleep(2500 * time.Millisecond)
	if n := len(c.snapshot()); n != 0 {
		t.Fatalf("%d messages published before the clock was trusted", n)
	}
	if r := a.Report(); r.Clock.Synced || r.Clock.Anchored {
		t.Fatalf("clock status %+v", r.Clock)
	}
	clk.offset.Store(0)
	clk.synced.Store(true)
	waitFor(t, "windows after NTP", 10*time.Second, func() bool { return len(c.snapshot()) >= 6 })
	first := c.snapshot()[0]
	ws, _ := time.Parse(time.RFC3339, first.WindowStart)
	if d := time.Since(ws); d < 0 || d > time.Minute {
		t.Fatalf("first window %s is not wall-clock time now (%v ago)", first.WindowStart, d)
	}
	clk.offset.Store(int64(-time.Hour))
	time.Sleep(2500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for _, m := range c.snapshot() {
		if m.Type != "sensor_window" {
			continue
		}
		if prev, ok := last[m.Sensor]; ok && m.WindowStart <= prev {
			t.Fatalf("sensor %s: window %s after %s: the clock step reopened the past", m.Sensor, m.WindowStart, prev)
		}
		last[m.Sensor] = m.WindowStart
	}
	left, st := outboxLeft(t, dir)
	checkNothingLost(t, c.snapshot(), left, st, 0)
}

// The health message says null, not year 1, when no window waits.
func TestHealthOldestAtNullWhenEmpty(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, simStoreYAML("tcp://127.0.0.1:1", dir, ""))
	a, err := New(cfg, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h := a.health().(map[string]any)
	if got := h["outbox"].(map[string]any)["oldest_at"]; got != nil {
		t.Fatalf("oldest_at of an empty outbox: %v", got)
	}
}

// A socket the user may not open says which group to join. (Tests may run
// as root, who may open anything: then the check is skipped.)
func TestDialDaemonPermissionHint(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root opens any socket")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = QueryStatus(path, time.Second)
	if err == nil || !strings.Contains(err.Error(), "usermod -aG edge-agent") {
		t.Fatalf("permission error: %v", err)
	}
}
