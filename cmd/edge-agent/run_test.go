package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/internal/broker"
)

// Bad input at start is a clear error and a non-zero exit, before the
// daemon does anything.
func TestRunRefusesBadStart(t *testing.T) {
	_, errOut, code := run(t, "run", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitBadInput || !strings.Contains(errOut, "missing.yaml") {
		t.Fatalf("missing config: exit %d: %s", code, errOut)
	}

	// A broker that refuses our credentials: exit 5 naming the cause.
	b, err := broker.Start("127.0.0.1:0", nil, broker.WithUsers(map[string]string{"store": "right"}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "agent.yaml")
	body := fmt.Sprintf(`store_id: s1
agent_id: pi
state_dir: %s
status_socket: %s
clock: {require_sync: false}
mqtt: {broker: %q, username: store, password_file: %s}
sensors:
  - {id: street, kind: beam-pair, role: passerby, pins: {a: A, b: B}, simulate: {seed: 1, per_minute: 10}}
`, dir, filepath.Join(dir, "s.sock"), b.URL(), pw)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, "run", "--config", cfg)
	if code != exitRefused || !strings.Contains(errOut, "password_file") {
		t.Fatalf("refused credentials: exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "wrong") {
		t.Fatalf("the password leaked into the error: %s", errOut)
	}
}
