package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	gosync "sync"
	"syscall"
	"time"

	mqttsync "github.com/omo-edge/edge-agent/internal/sync"
)

// Report is what `edge-agent status` shows: the daemon's state as one JSON
// document on the status socket.
type Report struct {
	Store     string         `json:"store"`
	Agent     string         `json:"agent"`
	Version   string         `json:"version"`
	StartedAt time.Time      `json:"started_at"`
	Clock     ClockStatus    `json:"clock"`
	Outbox    OutboxStatus   `json:"outbox"`
	Broker    BrokerStatus   `json:"broker"`
	Window    WindowStatus   `json:"window"`
	Sensors   []SensorStatus `json:"sensors"`
}

// ClockStatus says whether windows get wall-clock times yet.
type ClockStatus struct {
	Synced   bool  `json:"synced"`
	Anchored bool  `json:"anchored"`
	Held     int64 `json:"held_events_lost"`
}

// OutboxStatus is the durable buffer's state.
type OutboxStatus struct {
	Depth           int       `json:"depth"`
	Bytes           int64     `json:"bytes"`
	OldestSeq       uint64    `json:"oldest_seq"`
	OldestAt        time.Time `json:"oldest_at,omitzero"`
	LastSeq         uint64    `json:"last_seq"`
	Dropped         uint64    `json:"dropped"`
	LastCommitError string    `json:"last_commit_error,omitempty"`
}

// BrokerStatus is the upstream connection's state.
type BrokerStatus struct {
	URL        string    `json:"url"`
	Connected  bool      `json:"connected"`
	Since      time.Time `json:"since,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	Sent       uint64    `json:"sent"`
	Acked      uint64    `json:"acked"`
	InFlight   int       `json:"in_flight"`
	Reconnects uint64    `json:"reconnects"`
	Backlog    uint64    `json:"backlog"`
	// Commands counts the cloud's commands (cmd/+) and the replies.
	Commands mqttsync.CommandStats `json:"commands"`
}

// WindowStatus is the open window's running figures.
type WindowStatus struct {
	Start     time.Time `json:"start,omitzero"`
	Occupancy int64     `json:"occupancy"`
}

// SensorStatus is one sensor's health and its counts in the open window.
type SensorStatus struct {
	ID         string           `json:"id"`
	Kind       string           `json:"kind"`
	Role       string           `json:"role"`
	Simulated  bool             `json:"simulated,omitempty"`
	State      string           `json:"state"` // starting, ok, stale, error
	Error      string           `json:"error,omitempty"`
	Readings   uint64           `json:"readings"`
	LastAgoMs  int64            `json:"last_reading_ago_ms"`
	OpenCounts map[string]int64 `json:"open_window"`
	// Calibration is the sensor's calibration in use (edge-agent calibrate).
	Calibration *Calibration `json:"calibration,omitempty"`
}

// ErrNotRunning means no daemon answers on the status socket.
var ErrNotRunning = errors.New("no edge-agent daemon is running")

type statusReply struct {
	Error  string  `json:"error,omitempty"`
	Status *Report `json:"status,omitempty"`
}

// serveStatus answers requests on a unix socket until ctx is done or the
// returned stop is called. Run calls stop before it returns, so a daemon
// started right after finds the socket free, not a listener on its way out.
// A subscribe request hands the connection to stream.
func serveStatus(ctx context.Context, path string, report func() Report, stream streamFunc, calibrate calibrateFunc, log *slog.Logger) (stop func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("status socket %s: %w", path, err)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("status socket %s: another edge-agent is already running (stop it first: systemctl stop edge-agent)", path)
	}
	_ = os.Remove(path) // a stale socket left by a killed daemon
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("status socket %s: %w", path, err)
	}
	_ = os.Chmod(path, 0o660) // the technician's group may ask
	var once gosync.Once
	stop = func() { once.Do(func() { l.Close() }) }
	go func() {
		<-ctx.Done()
		stop()
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handleStatus(ctx, c, report, stream, calibrate, log)
		}
	}()
	return stop, nil
}

// streamFunc serves a subscribe request on its connection until the
// client hangs up (control.go).
type streamFunc func(ctx context.Context, c net.Conn, br *bufio.Reader, req StreamRequest)

// calibrateFunc validates, saves and applies a calibration (calibration.go).
type calibrateFunc func(ctx context.Context, sensor string, params map[string]string) (CalibrationResult, error)

func handleStatus(ctx context.Context, c net.Conn, report func() Report, stream streamFunc, calibrate calibrateFunc, log *slog.Logger) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var req StreamRequest
	var rep statusReply
	br := bufio.NewReader(c)
	line, err := br.ReadBytes('\n')
	switch {
	case err != nil:
		return
	case json.Unmarshal(line, &req) != nil:
		rep.Error = "request is not JSON; send {\"cmd\":\"status\"}"
	case req.Cmd == "status":
		r := report()
		rep.Status = &r
	case req.Cmd == "subscribe" && stream != nil:
		stream(ctx, c, br, req)
		return
	case req.Cmd == "calibrate" && calibrate != nil:
		var cr calibrateReply
		if res, err := calibrate(ctx, req.Sensor, req.Params); err != nil {
			cr.Error = err.Error()
		} else {
			cr.Calibration = &res
		}
		if err := json.NewEncoder(c).Encode(cr); err != nil {
			log.Debug("calibrate reply not sent", "err", err)
		}
		return
	default:
		rep.Error = fmt.Sprintf("unknown command %q (known: status, subscribe, calibrate)", req.Cmd)
	}
	if err := json.NewEncoder(c).Encode(rep); err != nil {
		log.Debug("status reply not sent", "err", err)
	}
}

// dialDaemon connects to the daemon's socket. Its errors say what to do: a
// daemon that is not running wraps ErrNotRunning; a socket the user may
// not open names the group to join.
func dialDaemon(path string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED):
		return nil, fmt.Errorf("%w (nothing listens on %s; start it with: systemctl start edge-agent)", ErrNotRunning, path)
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("status socket %s: permission denied: run with sudo, or join the daemon's group (sudo usermod -aG edge-agent $USER, then log in again)", path)
	}
	return nil, fmt.Errorf("status socket %s: %w", path, err)
}

// QueryStatus asks the daemon listening on path for its status.
func QueryStatus(path string, timeout time.Duration) (Report, error) {
	c, err := dialDaemon(path, timeout)
	if err != nil {
		return Report{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("{\"cmd\":\"status\"}\n")); err != nil {
		return Report{}, fmt.Errorf("status socket %s: %w", path, err)
	}
	var rep statusReply
	if err := json.NewDecoder(c).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("status socket %s: bad reply: %w", path, err)
	}
	if rep.Error != "" || rep.Status == nil {
		return Report{}, fmt.Errorf("status socket %s: %s", path, rep.Error)
	}
	return *rep.Status, nil
}
