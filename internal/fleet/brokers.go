package fleet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omo-edge/edge-agent/internal/broker"
)

// BrokerControl stops and starts the broker for the shared outage.
type BrokerControl interface {
	Stop() error
	Start() error
}

// embedded is the in-process broker (mochi-mqtt) of a fleet run without
// --broker; the consumer subscribes inline, so what the broker acked is
// counted even when the broker stops right after.
type embedded struct {
	addr     string
	b        *broker.Broker
	consumer *Consumer
	filters  []string
}

func startEmbedded(c *Consumer, prefix string) (*embedded, error) {
	e := &embedded{addr: "127.0.0.1:0", consumer: c, filters: Filters(prefix, "")}
	if err := e.Start(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *embedded) url() string { return "tcp://" + e.addr }

// Start starts the broker on the same address as before and subscribes
// the consumer.
func (e *embedded) Start() error {
	var (
		b   *broker.Broker
		err error
	)
	// The port of the broker just stopped may linger a moment.
	for range 50 {
		if b, err = broker.Start(e.addr, nil); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	e.b, e.addr = b, b.Addr()
	for _, f := range e.filters {
		if err := b.Subscribe(f, func(m broker.Message) { e.consumer.Handle(m.Payload, time.Now()) }); err != nil {
			return err
		}
	}
	return nil
}

// Stop disconnects every client and stops listening.
func (e *embedded) Stop() error { return e.b.Close() }

// CommandBroker runs an external broker (Mosquitto, say) as a child
// process: Start runs Cmd with sh -c and waits until Addr accepts
// connections; Stop sends SIGTERM (a clean shutdown: Mosquitto saves its
// persistent sessions) and waits.
type CommandBroker struct {
	Cmd  string // e.g. "ulimit -n 65536; exec mosquitto -c fleet.conf"
	Addr string // host:port it listens on
	Log  string // file for its output; "" discards it

	cmd    *exec.Cmd
	exited chan struct{}
	used   time.Duration // CPU of the processes already stopped
}

// Start starts the broker and waits up to 10 s for it to listen.
func (b *CommandBroker) Start() error {
	cmd := exec.Command("sh", "-c", b.Cmd)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if b.Log != "" {
		f, err := os.OpenFile(b.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("broker log: %w", err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("broker command: %w", err)
	}
	b.cmd, b.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(b.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-b.exited:
			return fmt.Errorf("broker command %q exited at start (see %s)", b.Cmd, b.Log)
		default:
		}
		if c, err := net.DialTimeout("tcp", b.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			_ = b.Stop()
			return fmt.Errorf("broker command %q: nothing listens on %s after 10s", b.Cmd, b.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the broker: SIGTERM, SIGKILL after 20 s.
func (b *CommandBroker) Stop() error {
	if b.cmd == nil {
		return errors.New("broker command not running")
	}
	b.used += procCPU(b.cmd.Process.Pid)
	pgid := -b.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-b.exited
	}
	b.cmd = nil
	return nil
}

// CPU is the CPU time the broker processes have used so far (the shell
// exec's into the broker), read from /proc.
func (b *CommandBroker) CPU() time.Duration {
	if b.cmd == nil {
		return b.used
	}
	return b.used + procCPU(b.cmd.Process.Pid)
}

// procCPU reads utime+stime of pid from /proc/<pid>/stat.
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// ConnectTimes reads the broker's log for the connects it accepted at or
// after since (Mosquitto's "New client connected ... as <id>" lines,
// stamped to the second): the storm as the broker saw it, free of the
// simulator's own scheduling.
func (b *CommandBroker) ConnectTimes(since time.Time) []time.Time {
	raw, err := os.ReadFile(b.Log)
	if err != nil {
		return nil
	}
	return mosquittoConnects(string(raw), since)
}

// mosquittoConnects parses Mosquitto log text ("<unix seconds>: New client
// connected from <addr> as <client id> (...)") for the connects of
// clients at or after since, whose id ends in "-pi" (the stores').
func mosquittoConnects(log string, since time.Time) []time.Time {
	var out []time.Time
	for _, line := range strings.Split(log, "\n") {
		ts, rest, ok := strings.Cut(line, ": New client connected from ")
		if !ok {
			continue
		}
		_, id, ok := strings.Cut(rest, " as ")
		if !ok {
			continue
		}
		id, _, _ = strings.Cut(id, " ")
		sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil || !strings.HasSuffix(id, "-pi") {
			continue
		}
		if t := time.Unix(sec, 0); !t.Before(since.Truncate(time.Second)) {
			out = append(out, t)
		}
	}
	return out
}
