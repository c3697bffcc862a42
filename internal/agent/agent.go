// Package agent is the daemon: it wires the sensor sources to the pure
// pipeline, commits closed windows to the durable outbox and lets the
// publisher move them upstream. Everything here is an edge; the counting
// logic lives in internal/pipeline and below.
package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/pipeline"
	"github.com/omo-edge/edge-agent/internal/sensor"
	mqttsync "github.com/omo-edge/edge-agent/internal/sync"
	"github.com/omo-edge/edge-agent/internal/sysd"
)

// stateKey is the outbox state entry holding the aggregator's open window.
const stateKey = "aggregator"

// tickEvery is how often time advances in the pipeline with no reading.
const tickEvery = 250 * time.Millisecond

// settle is how far behind now the pipeline's clock runs when no reading
// moves it: a reading stamped at the sensor reaches the pipeline a little
// later (debounce, the channel), and must still find its detector and its
// window open. Windows close this much after their end.
const settle = time.Second

// Options are the agent's injectable edges.
type Options struct {
	Version string
	// Clock defaults to SystemClock, or TrustedClock when the config says
	// clock.require_sync: false.
	Clock Clock
	// OpenSource builds the reading source of sensor i; nil = hardware or
	// simulation as the config says.
	OpenSource func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error)
}

// Source delivers one sensor's readings.
type Source interface {
	// Run reads until ctx is done, handing each reading to emit. It returns
	// an error when the hardware fails; the agent then retries with backoff
	// and reports the sensor's state meanwhile.
	Run(ctx context.Context, emit Emit) error
}

// Emit hands over one reading of the source's sensor: channel index, value
// (or token) and when it was taken (a time.Now() value, so its monotonic
// part is what counts).
type Emit func(channel int, value int64, token []byte, at time.Time)

// Agent is a running edge-agent daemon.
type Agent struct {
	cfg    *config.Config
	log    *slog.Logger
	cmdLog *slog.Logger // rate-limited, for cmd/+ (commands.go in internal/sync)
	opts   Options
	clock  Clock
	origin time.Time

	specs []sensor.Spec
	pipe  *pipeline.Pipeline
	enc   *aggregate.Encoder
	ob    *buffer.Outbox
	pub   *mqttsync.Publisher
	nfc   *nfcState // plates' controllers, check-in pseudonymizer

	sensors  []*sensorState
	readings chan sensor.Reading
	started  time.Time

	viewMu gosync.Mutex
	view   view // what status shows of the pipeline goroutine's state

	lastCommitErr time.Time
	savedSnap     []byte // the open window as last handed to the outbox

	hub hub // live stream subscribers (control.go)

	// Calibration (calibration.go): the config's specs, the sensors' keys
	// in use and the saved calibrations, guarded by calMu; calibs hands a
	// new detector's spec to the pipeline goroutine.
	baseSpecs []sensor.Spec
	calMu     gosync.Mutex
	params    []map[string]string
	cals      map[string]Calibration
	calibs    chan calibrateReq
}

// view is a copy of the pipeline's state for the status socket.
type view struct {
	synced, anchored bool
	heldLost         int64
	windowStart      int64
	occupancy        int64
	open             []aggregate.Counts
	startMs          int64           // wall ms of t_ms 0 (the anchor, or the clock's guess)
	detectors        []detect.Health // per sensor, for the stream
}

// sensorState is one sensor's health, written by its source goroutine.
type sensorState struct {
	spec      sensor.Spec
	simulated bool
	readings  atomic.Uint64
	lastNs    atomic.Int64 // monotonic ns since origin of the last reading
	mu        gosync.Mutex
	state     string
	err       string
}

func (s *sensorState) set(state, err string) {
	s.mu.Lock()
	s.state, s.err = state, err
	s.mu.Unlock()
}

// New opens the outbox and builds the pipeline and the publisher. Errors
// are the user's to fix (config, files, broker credentials).
func New(cfg *config.Config, log *slog.Logger, opts Options) (*Agent, error) {
	return newAgent(cfg, log, opts, false)
}

// newAgent builds the daemon, or with local the same pipeline and sources
// for a CLI command reading the sensors itself (local.go): no outbox, no
// publisher, nothing written but a calibration asked for.
func newAgent(cfg *config.Config, log *slog.Logger, opts Options, local bool) (*Agent, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Agent{cfg: cfg, log: log, opts: opts, clock: opts.Clock}
	if a.clock == nil {
		a.clock = SystemClock{}
		if !cfg.Clock.RequireSync {
			a.clock = TrustedClock{}
		}
	}
	a.origin = a.clock.Now() // t_ms 0 of this process's readings
	a.started = a.origin
	specs, err := cfg.Specs()
	if err != nil {
		return nil, err
	}
	a.baseSpecs = specs
	specs = a.applyCalibrations(specs)
	a.specs = specs
	for _, s := range specs {
		a.params = append(a.params, s.Params)
	}
	a.calibs = make(chan calibrateReq)
	if a.pipe, err = pipeline.New(specs, cfg.AggregateOptions()); err != nil {
		return nil, err
	}
	a.enc = aggregate.NewEncoder(aggregate.Identity{Store: cfg.StoreID, Agent: cfg.AgentID}, specs)
	if local {
		if a.nfc, err = openNFC(cfg, log); err != nil {
			return nil, err
		}
		a.initSensors(specs)
		return a, nil
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("state_dir %s: %w", cfg.StateDir, err)
	}
	a.ob, err = buffer.Open(filepath.Join(cfg.StateDir, "outbox.db"), cfg.Buffer.Options(), log)
	if err != nil {
		return nil, err
	}
	if st, err := a.ob.State(stateKey); err != nil {
		log.Warn("open window state unreadable; starting a fresh window", "err", err)
	} else if st != nil {
		dropped, err := a.pipe.Aggregator().Restore(st)
		if err != nil {
			log.Warn("open window state not understood; starting a fresh window", "err", err)
		}
		for _, id := range dropped {
			log.Warn("open window counts of a sensor no longer configured are dropped", "sensor", id)
		}
	}
	if a.nfc, err = openNFC(cfg, log); err != nil {
		a.ob.Close()
		return nil, err
	}
	// one rate-limited log for the whole command path (the cloud's input)
	a.cmdLog = mqttsync.NewCommandLog(log.With("part", "commands"))
	a.pub, err = mqttsync.New(cfg.MQTT, outboxAdapter{a.ob}, log.With("part", "mqtt"),
		mqttsync.WithHealth(func() any { return a.health() }), mqttsync.WithCommands(a.handleCommand),
		mqttsync.WithCommandLog(a.cmdLog))
	if err != nil {
		a.nfc.close()
		a.ob.Close()
		return nil, err
	}
	a.initSensors(specs)
	return a, nil
}

func (a *Agent) initSensors(specs []sensor.Spec) {
	for i, sc := range a.cfg.Sensors {
		a.sensors = append(a.sensors, &sensorState{spec: specs[i], simulated: sc.Simulate != nil, state: "starting"})
	}
	a.readings = make(chan sensor.Reading, 4096)
}

// Check makes one connection attempt to the broker: a permanent refusal
// (credentials, authorization, TLS) is returned; a broker that is merely
// unreachable is logged, since the outbox buffers until it is back.
func (a *Agent) Check(ctx context.Context) error {
	err := a.pub.Check(ctx)
	if err == nil || mqttsync.Permanent(err) {
		return err
	}
	a.log.Warn("broker not reachable at start; buffering until it is", "err", err)
	return nil
}

// Close releases what New opened, for a daemon that will not Run.
func (a *Agent) Close() error {
	a.nfc.close()
	if a.ob == nil {
		return nil
	}
	return a.ob.Close()
}

// Run runs the daemon until ctx is done, then commits what it has.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The pipeline's first advance fills in the view (the wall time of
	// t_ms 0, the detectors) before the socket serves: a client that asks
	// the moment it answers must not get the zero view (a stream dated at
	// the Unix epoch). No other goroutine runs yet; loop takes over from here.
	a.advance()
	stopStatus, err := serveStatus(ctx, a.cfg.StatusSocket, a.Report, a.serveStream, a.calibrate, a.log)
	if err != nil {
		a.nfc.close()
		a.ob.Close()
		return err
	}
	defer stopStatus()
	var wg gosync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.pub.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("publisher stopped", "err", err)
		}
	}()
	env := a.sourceEnv()
	for i := range a.cfg.Sensors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.runSource(ctx, i, env, nil)
		}()
	}
	if _, err := sysd.Notify("READY=1"); err != nil {
		a.log.Warn("systemd notify failed", "err", err)
	}
	a.log.Info("edge-agent running", "store", a.cfg.StoreID, "agent", a.cfg.AgentID, "sensors", len(a.specs),
		"broker", a.cfg.MQTT.Broker, "state_dir", a.cfg.StateDir)

	err = a.loop(ctx)
	_, _ = sysd.Notify("STOPPING=1")
	cancel()
	wg.Wait()
	a.nfc.close()
	if cerr := a.ob.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// sourceEnv is what the sensors' sources share.
func (a *Agent) sourceEnv() *SourceEnv {
	env := &SourceEnv{Log: a.log, Clock: a.clock, Origin: a.origin}
	for _, sc := range a.cfg.Sensors {
		if sc.XShut != "" && sc.Simulate == nil {
			env.XShut = append(env.XShut, sc.XShut)
		}
	}
	return env
}

// loop is the pipeline goroutine: the only one touching the pipeline and
// staging into the outbox.
func (a *Agent) loop(ctx context.Context) error {
	flush := time.NewTicker(a.cfg.Buffer.FlushInterval)
	defer flush.Stop()
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	var watchdog <-chan time.Time
	if iv := sysd.WatchdogInterval(); iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		watchdog = t.C
	}
	// The first advance is the caller's, before anyone may ask (Run, startLocal).
	for {
		select {
		case r := <-a.readings:
			a.staged(a.pipe.Feed(r))
			if a.ob != nil && a.ob.NeedsCommit() {
				a.commit()
			}
		case <-tick.C:
			a.advance()
		case c := <-a.calibs:
			c.reply <- a.pipe.Reconfigure(c.i, c.spec)
		case <-flush.C:
			a.commit()
		case <-watchdog:
			// The loop is alive and its commits are not stuck: tell systemd.
			_, _ = sysd.Notify("WATCHDOG=1")
		case <-ctx.Done():
			// Readings still queued are counted; the open window stays open
			// and is saved, so a restart carries on with it.
			for {
				select {
				case r := <-a.readings:
					a.staged(a.pipe.Feed(r))
					continue
				default:
				}
				break
			}
			a.commit()
			return nil
		}
	}
}

// mono converts a time.Now() value to the pipeline's t_ms.
func (a *Agent) mono(t time.Time) int64 { return t.Sub(a.origin).Milliseconds() }

// advance moves pipeline time to now, anchoring wall time once the clock
// is trusted and re-anchoring when it steps.
func (a *Agent) advance() {
	now := a.clock.Now()
	t := a.mono(now)
	synced := a.clock.Synced()
	if synced {
		wall := a.clock.Wall().UnixMilli() - t // wall time of t_ms = 0
		switch {
		case !a.pipe.Anchored():
			a.log.Info("clock trusted; windows get wall-clock times", "now", a.clock.Wall().UTC().Format(time.RFC3339))
			a.staged(a.pipe.SetAnchor(wall))
		case abs(wall-a.pipe.Anchor()) > a.cfg.Clock.StepTolerance.Milliseconds():
			a.log.Warn("system clock stepped; re-anchoring windows", "step", time.Duration(wall-a.pipe.Anchor())*time.Millisecond)
			a.staged(a.pipe.SetAnchor(wall))
		}
	}
	a.staged(a.pipe.Advance(t - settle.Milliseconds()))
	agg := a.pipe.Aggregator()
	start, counts := agg.OpenCounts()
	startMs := a.clock.Wall().UnixMilli() - t
	if a.pipe.Anchored() {
		startMs = a.pipe.Anchor()
	}
	a.viewMu.Lock()
	dets := a.view.detectors[:0]
	for i := range a.specs {
		var h detect.Health
		if hr, ok := a.pipe.Detector(i).(detect.HealthReporter); ok {
			h = hr.Health()
		}
		dets = append(dets, h)
	}
	a.view = view{synced: synced, anchored: a.pipe.Anchored(), heldLost: a.pipe.HeldLost(),
		windowStart: start, occupancy: agg.Occupancy(), open: append(a.view.open[:0], counts...),
		startMs: startMs, detectors: dets}
	a.viewMu.Unlock()
}

// staged stages the windows a pipeline call closed and tells the stream's
// subscribers the events and windows that call produced.
func (a *Agent) staged(ws []aggregate.Window) {
	a.stage(ws)
	a.publishEvents(a.pipe.Events())
	a.publishWindows(ws)
}

// streamView returns the wall time of t_ms 0 and a copy of the detectors'
// health, as the pipeline goroutine last saw them.
func (a *Agent) streamView() (time.Time, []detect.Health) {
	a.viewMu.Lock()
	defer a.viewMu.Unlock()
	return time.UnixMilli(a.view.startMs).UTC(), append([]detect.Health(nil), a.view.detectors...)
}

// stage puts closed windows into the outbox: one message per sensor and one
// for the store. They become visible to the publisher at the next commit.
func (a *Agent) stage(ws []aggregate.Window) {
	if a.ob == nil {
		return // local: nothing is published
	}
	for wi := range ws {
		w := &ws[wi]
		for i, s := range a.specs {
			a.ob.Stage("agg/"+s.ID, func(seq uint64) []byte { return a.enc.SensorWindow(nil, w, i, seq) })
		}
		a.ob.Stage("store", func(seq uint64) []byte { return a.enc.StoreWindow(nil, w, seq) })
	}
}

// commit makes the staged windows and the open window's counts durable in
// one transaction. A failure (a full disk) keeps everything staged and is
// retried at the next flush.
func (a *Agent) commit() {
	if a.ob == nil {
		return
	}
	// An unchanged open window is not written again: a quiet store at night
	// then commits nothing at all, sparing the SD card.
	if snap := a.pipe.Aggregator().Snapshot(); !bytes.Equal(snap, a.savedSnap) {
		a.ob.SetState(stateKey, snap)
		a.savedSnap = snap
	}
	if err := a.ob.Commit(); err != nil {
		if time.Since(a.lastCommitErr) > time.Minute {
			a.log.Error("outbox commit failed; keeping the data in memory and retrying", "err", err)
			a.lastCommitErr = time.Now()
		}
	}
}

// opener returns how sensor sc's source is opened.
func (a *Agent) opener(sc config.SensorConfig) func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
	if a.opts.OpenSource != nil {
		return a.opts.OpenSource
	}
	if k := sensor.Kind(sc.Kind); k == sensor.KindNFCPlate || k == sensor.KindNFCReader {
		return a.openNFCSource
	}
	return openSource
}

// runSource runs sensor i's source (first, when already open), restarting
// it with capped backoff when the hardware fails, forever: a loose cable
// must not need a visit.
func (a *Agent) runSource(ctx context.Context, i int, env *SourceEnv, first Source) {
	st := a.sensors[i]
	sc := a.cfg.Sensors[i]
	open := a.opener(sc)
	emit := func(ch int, v int64, tok []byte, at time.Time) {
		r := sensor.Reading{TMs: a.mono(at), Sensor: i, Channel: ch, Value: v, Token: tok}
		st.readings.Add(1)
		st.lastNs.Store(int64(at.Sub(a.origin)))
		a.hub.publish(streamItem{mask: maskReadings, r: r}, i)
		select {
		case a.readings <- r:
		case <-ctx.Done():
		}
	}
	delay := time.Second
	for ctx.Err() == nil {
		src, err := first, error(nil)
		if first == nil {
			src, err = open(i, sc, env)
		}
		first = nil
		if err == nil {
			st.set("ok", "")
			err = src.Run(ctx, emit)
			if c, ok := src.(interface{ Close() error }); ok {
				_ = c.Close()
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("source stopped")
		}
		st.set("error", err.Error())
		a.log.Error("sensor failed; retrying", "sensor", sc.ID, "err", err, "retry_in", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
		delay = min(delay*2, time.Minute)
	}
}

// Report assembles the status document.
func (a *Agent) Report() Report {
	var obs buffer.Stats
	if a.ob != nil {
		obs = a.ob.Stats()
	}
	ps := mqttsync.Status{LastError: "not publishing: the sensors are read by this command, not the daemon"}
	if a.pub != nil {
		ps = a.pub.Status()
	}
	a.viewMu.Lock()
	v := a.view
	open := append([]aggregate.Counts(nil), v.open...)
	a.viewMu.Unlock()
	r := Report{
		Store: a.cfg.StoreID, Agent: a.cfg.AgentID, Version: a.opts.Version, StartedAt: a.started.UTC(),
		Clock: ClockStatus{Synced: v.synced, Anchored: v.anchored, Held: v.heldLost},
		Outbox: OutboxStatus{Depth: obs.Depth, Bytes: obs.Bytes, OldestSeq: obs.OldestSeq, OldestAt: obs.OldestAt,
			LastSeq: obs.LastSeq, Dropped: obs.Dropped, LastCommitError: obs.LastCommitErr},
		Broker: BrokerStatus{URL: a.cfg.MQTT.Broker, Connected: ps.Connected, Since: ps.Since, LastError: ps.LastError,
			Sent: ps.Sent, Acked: ps.Acked, InFlight: ps.InFlight, Reconnects: ps.Reconnects, Backlog: ps.BacklogRemaining,
			Commands: ps.Commands},
		Window: WindowStatus{Occupancy: v.occupancy},
	}
	if v.anchored {
		r.Window.Start = time.UnixMilli(v.windowStart).UTC()
	}
	nowNs := int64(a.clock.Now().Sub(a.origin))
	for i, s := range a.sensors {
		s.mu.Lock()
		ss := SensorStatus{ID: s.spec.ID, Kind: string(s.spec.Kind), Role: string(s.spec.Role), Simulated: s.simulated,
			State: s.state, Error: s.err, Readings: s.readings.Load(), LastAgoMs: -1}
		s.mu.Unlock()
		ss.Calibration = a.sensorCalibration(s.spec.ID)
		if ss.Readings > 0 {
			ss.LastAgoMs = (nowNs - s.lastNs.Load()) / 1e6
		}
		if i < len(open) {
			ss.OpenCounts = roleCounts(s.spec.Role, open[i])
		}
		r.Sensors = append(r.Sensors, ss)
	}
	return r
}

func roleCounts(role sensor.Role, c aggregate.Counts) map[string]int64 {
	switch role {
	case sensor.RoleEntrance:
		return map[string]int64{"entries": c.Entries, "exits": c.Exits}
	case sensor.RolePasserby:
		return map[string]int64{"passersby": c.Passersby}
	case sensor.RoleShelf:
		return map[string]int64{"stop_bys": c.StopBys}
	case sensor.RolePlate:
		return map[string]int64{"taps": c.Taps}
	case sensor.RoleCheckin:
		return map[string]int64{"checkins": c.Checkins}
	}
	return nil
}

// health is the retained health message: what the cloud team watches to
// know a store is fine (and how much it has had to drop).
func (a *Agent) health() any {
	r := a.Report()
	sensors := map[string]string{}
	for _, s := range r.Sensors {
		sensors[s.ID] = s.State
	}
	var oldest any // null when nothing waits, not year 1
	if !r.Outbox.OldestAt.IsZero() {
		oldest = r.Outbox.OldestAt.UTC().Format(time.RFC3339)
	}
	return map[string]any{
		"v": aggregate.SchemaVersion, "type": "health", "store": r.Store, "agent": r.Agent, "version": r.Version,
		"ts": a.clock.Wall().UTC().Format(time.RFC3339), "clock_synced": r.Clock.Synced,
		"outbox": map[string]any{"depth": r.Outbox.Depth, "bytes": r.Outbox.Bytes, "dropped": r.Outbox.Dropped,
			"oldest_at": oldest},
		"sensors": sensors,
	}
}

// outboxAdapter lets the publisher read the outbox through its own small
// interface.
type outboxAdapter struct{ ob *buffer.Outbox }

func (o outboxAdapter) Pending(after uint64, max int) ([]mqttsync.Record, error) {
	rs, err := o.ob.Pending(after, max)
	out := make([]mqttsync.Record, len(rs))
	for i, r := range rs {
		out[i] = mqttsync.Record(r)
	}
	return out, err
}
func (o outboxAdapter) Ack(seqs ...uint64)         { o.ob.Ack(seqs...) }
func (o outboxAdapter) Committed() <-chan struct{} { return o.ob.Committed() }
func (o outboxAdapter) LastSeq() uint64            { return o.ob.Stats().LastSeq }

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
