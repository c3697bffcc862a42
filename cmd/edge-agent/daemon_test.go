package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
)

// startDaemon runs an agent daemon in-process for a CLI test, stops it when
// the test ends, and returns once its status socket answers.
func startDaemon(t *testing.T, cfg *config.Config, opts agent.Options) {
	t.Helper()
	if opts.Version == "" {
		opts.Version = "test"
	}
	a, err := agent.New(cfg, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := agent.QueryStatus(cfg.StatusSocket, time.Second); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon did not answer")
		}
	}
}
