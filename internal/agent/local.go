package agent

// Local mode: the daemon owns the buses, so `watch`, `record` and
// `calibrate` subscribe to it when it runs. When none runs they read the
// sensors themselves, through the daemon's own code: the same sources (real
// drivers on real buses, or the emulators for simulate:), the same pipeline
// and the same stream, served over an in-process pipe by the daemon's own
// socket handler, so the commands read the same lines either way. A local
// agent has no outbox and no publisher: nothing is buffered or sent; only a
// calibration asked for is written (state_dir/calibration.json, loaded by
// the daemon at its next start).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Local is a configuration's sensors read in this process, for a command
// that found no daemon running.
type Local struct {
	a      *Agent
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the pipeline and sources have stopped
	conns  gosync.WaitGroup
	once   gosync.Once
}

// OpenLocal builds the daemon's pipeline over cfg (validated) and opens
// the sensors named in sensors, all when empty, as the daemon would; the
// others are not touched and show as "off". A sensor that cannot be opened
// (a bus that does not exist, a chip that does not answer) fails it with
// an error naming the sensor and its bus, and nothing stays open. Close it
// when done.
func OpenLocal(cfg *config.Config, log *slog.Logger, opts Options, sensors []string) (*Local, error) {
	a, err := newAgent(cfg, log, opts, true)
	if err != nil {
		return nil, err
	}
	return a.startLocal(sensors)
}

// startLocal opens the chosen sensors and runs the pipeline goroutine.
func (a *Agent) startLocal(ids []string) (*Local, error) {
	want := make([]bool, len(a.cfg.Sensors))
	for i := range want {
		want[i] = len(ids) == 0
	}
	for _, id := range ids {
		i := a.sensorIndex(id)
		if i < 0 {
			a.nfc.close()
			return nil, fmt.Errorf("unknown sensor %q (known: %s)", id, strings.Join(a.sensorIDs(), ", "))
		}
		want[i] = true
	}
	a.advance() // the view a stream's header is made of, as in Run
	env := a.sourceEnv()
	srcs := make([]Source, len(a.cfg.Sensors))
	closeAll := func() {
		for _, s := range srcs {
			if c, ok := s.(interface{ Close() error }); ok {
				_ = c.Close()
			}
		}
		a.nfc.close()
	}
	// Opened here, one after the other, rather than by the sources'
	// goroutines: a bus that cannot be opened is the command's error, not a
	// retry loop in the background.
	for i, sc := range a.cfg.Sensors {
		if !want[i] {
			a.sensors[i].set("off", "")
			continue
		}
		src, err := a.opener(sc)(i, sc, env)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("sensor %s (%s%s): %w", sc.ID, sc.Kind, busOf(sc), err)
		}
		srcs[i] = src
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Local{a: a, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	var wg gosync.WaitGroup
	for i, src := range srcs {
		if src == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.runSource(ctx, i, env, src)
		}()
	}
	go func() {
		defer close(l.done)
		_ = a.loop(ctx)
		wg.Wait()
		a.nfc.close()
	}()
	return l, nil
}

// busOf names where a sensor is wired, for errors.
func busOf(sc config.SensorConfig) string {
	switch {
	case sc.Simulate != nil:
		return ", simulated"
	case sc.NFC != nil && sc.NFC.Bus != "":
		return " on I2C bus " + sc.NFC.Bus
	case sc.ADC != "":
		return " on SPI " + sc.SPI
	case sc.Bus != "":
		return " on I2C bus " + sc.Bus
	case len(sc.Pins) > 0:
		var pins []string
		for ch, p := range sc.Pins {
			pins = append(pins, ch+"="+p)
		}
		sort.Strings(pins)
		return " on GPIO " + strings.Join(pins, " ")
	}
	return ""
}

// Subscribe opens a stream of the local sensors, served by the daemon's
// own socket handler over an in-process pipe.
func (l *Local) Subscribe(req StreamRequest, timeout time.Duration) (*Stream, error) {
	if l.ctx.Err() != nil {
		return nil, errors.New("local sensors closed")
	}
	server, client := net.Pipe()
	l.conns.Add(1)
	go func() {
		defer l.conns.Done()
		handleStatus(l.ctx, server, l.a.Report, l.a.serveStream, l.a.calibrate, l.a.log)
	}()
	return handshake(client, req, timeout, "local sensors")
}

// Calibrate validates sensorID's calibration, saves it in the state
// directory's calibration file (the daemon loads it at its next start) and
// applies it to the local pipeline.
func (l *Local) Calibrate(sensorID string, params map[string]string, timeout time.Duration) (CalibrationResult, error) {
	if err := os.MkdirAll(l.a.cfg.StateDir, 0o750); err != nil {
		return CalibrationResult{}, fmt.Errorf("state_dir %s: %w", l.a.cfg.StateDir, err)
	}
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	return l.a.calibrate(ctx, sensorID, params)
}

// Close stops reading the sensors and releases them; it waits for the
// sources to halt, so a daemon started next finds the buses free.
func (l *Local) Close() error {
	l.once.Do(func() {
		l.cancel()
		<-l.done
		l.conns.Wait()
	})
	return nil
}

// ConnectOptions tune Connect.
type ConnectOptions struct {
	// Timeout bounds the daemon's answer and the stream's header.
	Timeout time.Duration
	// Log receives the local sources' messages (a sensor failing and
	// retried); nil discards them.
	Log *slog.Logger
	// Agent is the local agent's options (its version, clock, sources).
	Agent Options
}

// Connect subscribes to the daemon listening on socketPath; when none
// runs there (ErrNotRunning) and cfg is not nil, it reads cfg's sensors in
// this process instead and serves the same stream (Stream.Local says
// which). With a nil cfg a daemon that is not running is the error. A
// socket that answers but refuses (permissions, a bad request) is an
// error, never a reason to open the buses the daemon owns.
func Connect(socketPath string, cfg *config.Config, req StreamRequest, o ConnectOptions) (*Stream, error) {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	var err error
	if socketPath != "" {
		var st *Stream
		if st, err = Subscribe(socketPath, req, o.Timeout); err == nil || cfg == nil || !errors.Is(err, ErrNotRunning) {
			return st, err
		}
	} else if cfg == nil {
		return nil, fmt.Errorf("%w (no status socket and no config)", ErrNotRunning)
	}
	a, err := newAgent(cfg, o.Log, o.Agent, true)
	if err != nil {
		return nil, err
	}
	// The request is checked before any bus is opened.
	if _, err := a.parseStream(req); err != nil {
		a.nfc.close()
		return nil, err
	}
	l, err := a.startLocal(withShelves(a.specs, req.Sensors))
	if err != nil {
		return nil, err
	}
	st, err := l.Subscribe(req, o.Timeout)
	if err != nil {
		l.Close()
		return nil, err
	}
	st.local = l
	return st, nil
}

// withShelves adds to ids the shelves of the plates among them: a plate's
// stop-by rate needs its shelf counting.
func withShelves(specs []sensor.Spec, ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := append([]string(nil), ids...)
	for _, id := range ids {
		if i := indexOf(specs, id); i >= 0 && specs[i].Shelf != "" && indexOf(specs, specs[i].Shelf) >= 0 {
			out = append(out, specs[i].Shelf)
		}
	}
	return out
}

// CalibrationFile is where Calibrate saves on a local stream; "" on the
// daemon's stream (the daemon saves in its own state directory).
func (s *Stream) CalibrationFile() string {
	if s.local == nil {
		return ""
	}
	return filepath.Join(s.local.a.cfg.StateDir, calibrationFile)
}
