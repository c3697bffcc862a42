package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
)

// BuildDaemon builds the edge-agent binary with the chaos build tag (its
// outbox records a synced image for power cuts when SyncedImageEnv asks;
// otherwise it is the production daemon) into a test temporary directory
// and returns its path. race builds it with the race detector.
func BuildDaemon(t testing.TB, race bool) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "edge-agent")
	args := []string{"build", "-tags", "chaos", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/edge-agent")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the edge-agent module")
	}
	return filepath.Dir(mod), nil
}

// Daemon runs `edge-agent run --config Config` as systemd would: Start
// after a Kill is the restart. Its stderr goes to Log, whole lines, with
// the process number in front.
type Daemon struct {
	Bin, Config string
	// Env is added to the process's environment.
	Env []string
	// Socket is the config's status_socket, for Status.
	Socket string
	Log    io.Writer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how the last process ended
	starts int
}

// Start starts a process; the previous one must have ended.
func (d *Daemon) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return errors.New("chaos: daemon already running")
	}
	d.starts++
	cmd := exec.Command(d.Bin, "run", "--config", d.Config)
	cmd.Env = append(os.Environ(), d.Env...)
	if d.Log != nil {
		cmd.Stderr = &prefixWriter{w: d.Log, prefix: fmt.Sprintf("daemon#%d: ", d.starts)}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		d.mu.Lock()
		d.err = err
		d.mu.Unlock()
		close(exited)
	}()
	d.cmd, d.exited = cmd, exited
	return nil
}

// Starts counts the processes started.
func (d *Daemon) Starts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.starts
}

// Pid is the running process's id, 0 if none.
func (d *Daemon) Pid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// Exited reports whether the process started last has ended on its own
// (a crash, a fatal error), and how.
func (d *Daemon) Exited() (bool, error) {
	d.mu.Lock()
	ch := d.exited
	d.mu.Unlock()
	if ch == nil {
		return false, nil
	}
	select {
	case <-ch:
		d.mu.Lock()
		defer d.mu.Unlock()
		return true, d.err
	default:
		return false, nil
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (d *Daemon) Kill() { d.signal(syscall.SIGKILL, 0) }

// Stop sends SIGTERM, waits up to 20 s (then SIGKILL) and returns how the
// process ended: nil is a clean exit.
func (d *Daemon) Stop() error { return d.signal(syscall.SIGTERM, 20*time.Second) }

func (d *Daemon) signal(sig syscall.Signal, grace time.Duration) error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-exited:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("daemon did not stop within %v of %v", grace, sig)
		}
	}
	<-exited
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Status asks the running daemon for its report.
func (d *Daemon) Status() (agent.Report, error) { return agent.QueryStatus(d.Socket, time.Second) }

// WaitStatus polls Status until cond holds, failing if the process ends
// or d passes.
func (d *Daemon) WaitStatus(what string, timeout time.Duration, cond func(agent.Report) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ended, err := d.Exited(); ended {
			return fmt.Errorf("waiting for %s: the daemon exited (%v)", what, err)
		}
		if r, err := d.Status(); err == nil && cond(r) {
			return nil
		}
		if time.Now().After(deadline) {
			r, err := d.Status()
			return fmt.Errorf("timed out after %v waiting for %s (status %+v, %v)", timeout, what, r.Outbox, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// prefixWriter writes whole lines with a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i]); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
}
