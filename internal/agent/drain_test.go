package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/backlog"
	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// The daemon is SIGKILLed twice in the middle of draining a large backlog
// at full speed (backlog_rate 0) while it keeps counting: every record,
// by seq, is delivered or still in the outbox, and re-sends carry the same
// id and content. Acks deleted in group commits lose nothing.
func TestAgentIntegrationSIGKILLMidDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	mq := mosquitto.Start(t, mosquitto.Options{Persistent: true})
	c := collect(t, mq.URL(), "cloud-drain")
	dir := t.TempDir()
	yaml := simStoreYAML(mq.URL(), dir, "  max_bytes: 64MiB\n")
	const n = 60000
	if _, err := backlog.Fill(loadConfig(t, yaml), n); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd { return startChild(t, path) }
	// Kill points counted in the daemon's own acks (the collector lags):
	// a fifth of the backlog, then a quarter more.
	sock := filepath.Join(dir, "status.sock")
	for _, at := range []uint64{n / 5, n / 4} {
		cmd := start()
		waitFor(t, "the drain to pass the kill point", 90*time.Second, func() bool {
			r, err := QueryStatus(sock, time.Second)
			return err == nil && r.Broker.Acked >= at
		})
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		left, st := outboxLeft(t, dir)
		noneMovedAside(t, dir)
		if len(left) == 0 || st.OldestSeq > n {
			t.Fatalf("killed after %d acks with nothing of the backlog left: not mid-drain", at)
		}
		t.Logf("SIGKILL after %d acks: %d records left, oldest seq %d", at, len(left), st.OldestSeq)
	}
	cmd := start()
	waitFor(t, "the last daemon to drain", 90*time.Second, func() bool {
		r, err := QueryStatus(sock, time.Second)
		return err == nil && r.Broker.Connected && r.Outbox.Depth == 0
	})
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v", err)
	}
	// The collector lags the broker by thousands of messages under load:
	// let it take what the broker acked until it is quiet for a second.
	got := c.snapshot()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now := c.snapshot()
		if len(now) == len(got) {
			break
		}
		got = now
	}
	left, st := outboxLeft(t, dir)
	noneMovedAside(t, dir)
	checkNothingLost(t, got, left, st, 0)
	t.Logf("%d messages delivered (backlog %d), last seq %d, %d left", len(got), n, st.LastSeq, len(left))
}

// noneMovedAside fails if an outbox file was found unusable and moved aside:
// what it held would be lost to the publisher.
func noneMovedAside(t *testing.T, dir string) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(dir, "outbox.db.corrupt-*")); len(m) > 0 {
		t.Fatalf("outbox moved aside as unusable: %v", m)
	}
}

// startChild starts the test binary as a daemon on the config at path (a
// real process to SIGKILL).
func startChild(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
