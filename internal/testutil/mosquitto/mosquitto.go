// Package mosquitto starts a real Mosquitto broker for integration tests: on
// a free loopback port, its configuration and files in t.TempDir(),
// optionally with TLS (certificates generated in the test), client
// certificates required, and a password file. The test is skipped when the
// mosquitto binary is not installed (apt-get install mosquitto).
//
//	b := mosquitto.Start(t, mosquitto.Options{TLS: true, RequireClientCert: true})
//	cfg.Broker = b.URL()              // ssl://127.0.0.1:<port>
//	cfg.TLS.CAFile = b.Certs.CAFile   // and b.Certs.ClientCertFile / ClientKeyFile
//	b.Stop(); ...; b.Restart()        // an outage, same port
package mosquitto

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options says what kind of broker to start. The zero value is a plain TCP
// broker accepting anonymous clients.
type Options struct {
	// TLS serves TLS only (URL is ssl://...) with a server certificate for
	// 127.0.0.1 signed by a CA generated for the test (Certs).
	TLS bool
	// RequireClientCert makes the broker require a client certificate
	// signed by that CA (mutual TLS); implies TLS.
	RequireClientCert bool
	// Users, when set, is written to a password file with mosquitto_passwd
	// and anonymous clients are refused. The test is skipped when
	// mosquitto_passwd is not installed.
	Users map[string]string
	// Port to listen on; 0 picks a free one.
	Port int
	// Persistent keeps sessions and queued messages across Stop/Restart
	// (persistence true, saved on a clean Stop), so a subscriber with a
	// persistent session misses nothing during an outage.
	Persistent bool
	// ExtraConfig is appended to mosquitto.conf.
	ExtraConfig string
}

// Broker is a running (or stopped) mosquitto process.
type Broker struct {
	t       testing.TB
	opts    Options
	port    int
	dir     string
	conf    string
	logPath string
	// Certs are the generated certificates (nil without TLS).
	Certs *Certs

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts mosquitto and stops it when the test ends; it skips the test
// when mosquitto is not installed.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto" // Debian installs it outside a user's PATH
		if _, err := os.Stat(bin); err != nil {
			t.Skip("mosquitto is not installed (apt-get install mosquitto); skipping the integration test")
		}
	}
	if opts.RequireClientCert {
		opts.TLS = true
	}
	b := &Broker{t: t, opts: opts, dir: t.TempDir(), port: opts.Port}
	b.logPath = filepath.Join(b.dir, "mosquitto.log")
	if b.port == 0 {
		b.port = freePort(t)
	}
	if opts.TLS {
		c, err := GenerateCerts(b.dir, "127.0.0.1")
		if err != nil {
			t.Fatalf("mosquitto: certificates: %v", err)
		}
		b.Certs = c
	}
	if err := b.writeConfig(); err != nil {
		t.Fatalf("mosquitto: %v", err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", b.Log())
		}
	})
	b.start(bin)
	return b
}

// URL is the broker URL for an MQTT client: tcp:// or ssl://127.0.0.1:port.
func (b *Broker) URL() string {
	if b.opts.TLS {
		return fmt.Sprintf("ssl://127.0.0.1:%d", b.port)
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", b.port)
}

// Addr is host:port.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// Log returns mosquitto's log so far.
func (b *Broker) Log() string {
	out, _ := os.ReadFile(b.logPath)
	return string(out)
}

// Stop terminates the broker (SIGTERM, then SIGKILL after 5 s) and waits for
// it to exit. Stopping a stopped broker does nothing.
func (b *Broker) Stop() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Kill ends the broker with SIGKILL, as a crash or power cut would (no
// clean shutdown).
func (b *Broker) Kill() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Restart starts the broker again on the same port with the same
// configuration (stopping it first if it runs).
func (b *Broker) Restart() {
	b.t.Helper()
	b.Stop()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	b.start(bin)
}

func (b *Broker) start(bin string) {
	b.t.Helper()
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.t.Fatalf("mosquitto: %v", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("mosquitto: start: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.mu.Lock()
	b.cmd, b.exited = cmd, exited
	b.mu.Unlock()

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			b.mu.Lock()
			b.cmd = nil
			b.mu.Unlock()
			b.t.Fatalf("mosquitto exited at start:\n%s", b.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", b.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Stop()
			b.t.Fatalf("mosquitto not listening on %s after 10s:\n%s", b.Addr(), b.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *Broker) writeConfig() error {
	var c bytes.Buffer
	fmt.Fprintf(&c, "listener %d 127.0.0.1\n", b.port)
	if b.opts.Persistent {
		fmt.Fprintf(&c, "persistence true\npersistence_location %s/\nautosave_interval 0\n", b.dir)
	} else {
		c.WriteString("persistence false\n")
	}
	c.WriteString("log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
	c.WriteString("max_inflight_messages 0\nmax_queued_messages 0\n")
	if os.Geteuid() == 0 {
		// as root mosquitto would switch to user "mosquitto", which cannot
		// read the test's private temporary directory
		c.WriteString("user root\n")
	}
	if b.opts.TLS {
		fmt.Fprintf(&c, "cafile %s\ncertfile %s\nkeyfile %s\n", b.Certs.CAFile, b.Certs.ServerCertFile, b.Certs.ServerKeyFile)
		if b.opts.RequireClientCert {
			c.WriteString("require_certificate true\n")
		}
	}
	if b.opts.Users != nil {
		pw, err := exec.LookPath("mosquitto_passwd")
		if err != nil {
			b.t.Skip("mosquitto_passwd is not installed; skipping the password case")
		}
		file := filepath.Join(b.dir, "passwd")
		names := make([]string, 0, len(b.opts.Users))
		for u := range b.opts.Users {
			names = append(names, u)
		}
		sort.Strings(names)
		for i, u := range names {
			args := []string{"-b", file, u, b.opts.Users[u]}
			if i == 0 {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command(pw, args...).CombinedOutput(); err != nil {
				return fmt.Errorf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		fmt.Fprintf(&c, "allow_anonymous false\npassword_file %s\n", file)
	} else {
		c.WriteString("allow_anonymous true\n")
	}
	if b.opts.ExtraConfig != "" {
		c.WriteString(strings.TrimSpace(b.opts.ExtraConfig) + "\n")
	}
	b.conf = filepath.Join(b.dir, "mosquitto.conf")
	return os.WriteFile(b.conf, c.Bytes(), 0o600)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mosquitto: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
