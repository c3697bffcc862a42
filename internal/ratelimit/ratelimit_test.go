package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/testutil/logbuf"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := NewBucket(10, 3)
	n := 0
	for i := 0; i < 10; i++ {
		if b.Allow(t0) {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("burst: %d allowed, want 3", n)
	}
	if b.Allow(t0.Add(50 * time.Millisecond)) {
		t.Fatal("allowed half a token")
	}
	if !b.Allow(t0.Add(100 * time.Millisecond)) {
		t.Fatal("a token after 1/rate was refused")
	}
	// an hour idle refills to the burst, not beyond
	n = 0
	for i := 0; i < 10; i++ {
		if b.Allow(t0.Add(time.Hour)) {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("after an hour: %d allowed, want 3", n)
	}
	// a clock that goes back spends nothing it does not have
	if b.Allow(t0) {
		t.Fatal("allowed after the clock went back with an empty bucket")
	}
}

func TestHandlerCountsSuppressed(t *testing.T) {
	var out logbuf.Buffer
	now := time.Unix(1000, 0)
	h := NewHandler(slog.NewTextHandler(&out, nil), Options{Rate: 1, Burst: 2, FlushAfter: time.Hour, Now: func() time.Time { return now }})
	log := slog.New(h).With("component", "cmd")
	for i := 0; i < 100; i++ {
		log.Warn("refused", "i", i)
	}
	now = now.Add(time.Second)
	log.Warn("refused", "i", 100)
	lines := out.Lines()
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[2], "i=100") || !strings.Contains(lines[2], "suppressed=98") || !strings.Contains(lines[2], "component=cmd") {
		t.Fatalf("line after the suppression: %s", lines[2])
	}
	if strings.Contains(lines[1], "suppressed") {
		t.Fatalf("a line before any suppression carries a count: %s", lines[1])
	}
	if h.Suppressed() != 98 {
		t.Fatalf("Suppressed() = %d", h.Suppressed())
	}
}

// When the flood ends, the count still reaches the log.
func TestHandlerFlushesTheLastCount(t *testing.T) {
	var out logbuf.Buffer
	h := NewHandler(slog.NewTextHandler(&out, nil), Options{Rate: 0.001, Burst: 1, FlushAfter: 50 * time.Millisecond})
	log := slog.New(h).WithGroup("g")
	for i := 0; i < 10; i++ {
		log.Info("x")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.Lines()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no summary line: %q", out.Lines())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l := out.Lines()[1]; !strings.Contains(l, "log lines suppressed") || !strings.Contains(l, "suppressed=9") {
		t.Fatalf("summary: %s", l)
	}
	if !h.Enabled(context.Background(), slog.LevelInfo) || h.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("Enabled does not follow the next handler")
	}
}

func TestBucketDelay(t *testing.T) {
	t0 := time.Unix(100, 0)
	b := NewBucket(100, 1.5) // a burst of one and a half: one now
	if d := b.Delay(t0); d != 0 {
		t.Fatalf("full bucket: delay %v, want 0", d)
	}
	if !b.Allow(t0) {
		t.Fatal("full bucket refused")
	}
	// half a token left: the next one in 5 ms; Delay spends nothing
	for range 2 {
		if d := b.Delay(t0); d != 5*time.Millisecond {
			t.Errorf("delay %v, want 5ms", d)
		}
	}
	// a clock that steps back earns nothing and loses nothing
	if d := b.Delay(t0.Add(-time.Second)); d != 5*time.Millisecond {
		t.Errorf("after a step back: delay %v, want 5ms", d)
	}
	if d := b.Delay(t0.Add(5 * time.Millisecond)); d != 0 {
		t.Errorf("after 5ms: delay %v, want 0", d)
	}
}
