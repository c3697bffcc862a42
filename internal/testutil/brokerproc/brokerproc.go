// Package brokerproc runs a broker binary for integration tests: found on
// PATH or in /usr/sbin (where Debian installs brokers) or the test is
// skipped, started in its own process group with its output in a log
// file, ready once its ports accept TCP connections, and stoppable and
// restartable on the same ports for outage tests. The broker starters
// (internal/testutil/nats, internal/testutil/rabbitmq) build on it.
package brokerproc

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Find returns the path of an installed binary, looking on PATH, then in
// the given directories and /usr/sbin and /usr/lib/<name>/bin; ok is false
// when it is not installed.
func Find(name string, dirs ...string) (path string, ok bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range append(dirs, "/usr/sbin") {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// Spec says how to run a broker.
type Spec struct {
	Name    string   // for messages: "nats-server", "rabbitmq"
	Bin     string   // absolute path
	Args    []string // command-line arguments
	Env     []string // environment (nil: inherit the test's)
	Dir     string   // working directory
	LogPath string   // stdout and stderr go here (appended across restarts)
	// Ports must all accept connections on 127.0.0.1 before Start returns.
	Ports []int
	// BootTimeout bounds the wait for the ports (default 15 s).
	BootTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL
	// (default 10 s).
	StopTimeout time.Duration
}

// Proc is a running (or stopped) broker process.
type Proc struct {
	t    testing.TB
	spec Spec

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs the broker and waits until it listens; it is stopped when the
// test ends, and its log is printed if the test failed.
func Start(t testing.TB, spec Spec) *Proc {
	t.Helper()
	if spec.BootTimeout == 0 {
		spec.BootTimeout = 15 * time.Second
	}
	if spec.StopTimeout == 0 {
		spec.StopTimeout = 10 * time.Second
	}
	p := &Proc{t: t, spec: spec}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", spec.Name, p.Log())
		}
	})
	p.start()
	return p
}

// Log returns the broker's output so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.spec.LogPath)
	return string(b)
}

// Stop sends SIGTERM to the broker's process group, then SIGKILL after
// StopTimeout, and waits for the process to exit. Stopping a stopped
// broker does nothing.
func (p *Proc) Stop() { p.end(syscall.SIGTERM, p.spec.StopTimeout) }

// Kill ends the broker's process group with SIGKILL, as a crash would.
func (p *Proc) Kill() { p.end(syscall.SIGKILL, 0) }

// Restart starts the broker again with the same command and ports,
// stopping it first if it runs.
func (p *Proc) Restart() {
	p.t.Helper()
	p.Stop()
	p.start()
}

func (p *Proc) end(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, sig)
	if grace > 0 {
		select {
		case <-exited:
		case <-time.After(grace):
		}
	}
	// whatever is left of the group (helpers of an Erlang VM, say)
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-exited
}

func (p *Proc) start() {
	p.t.Helper()
	logf, err := os.OpenFile(p.spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatalf("%s: %v", p.spec.Name, err)
	}
	defer logf.Close()
	cmd := exec.Command(p.spec.Bin, p.spec.Args...)
	cmd.Env, cmd.Dir = p.spec.Env, p.spec.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("%s: start: %v", p.spec.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	deadline := time.Now().Add(p.spec.BootTimeout)
	for _, port := range p.spec.Ports {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		for {
			select {
			case <-exited:
				p.mu.Lock()
				p.cmd = nil
				p.mu.Unlock()
				p.t.Fatalf("%s exited at start:\n%s", p.spec.Name, p.Log())
			default:
			}
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				p.Kill()
				p.t.Fatalf("%s not listening on %s after %v:\n%s", p.spec.Name, addr, p.spec.BootTimeout, p.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// FreePorts returns n distinct free loopback TCP ports.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
