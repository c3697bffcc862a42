package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	gosync "sync"
	"syscall"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/config"
)

// Options describe one fleet run. Durations marked "store time" run at
// Speedup; the others are real time.
type Options struct {
	Stores  int
	Speedup float64       // store time per real time; default 30
	Outage  time.Duration // store time the broker is away; default 1h
	Warmup  time.Duration // store time before the outage; default 10m
	// Tail is the real time the fleet keeps running after every outbox
	// drained, measuring fresh windows in calm; default 5s.
	Tail time.Duration
	// Window is the stores' aggregation window (store time); default 1m.
	Window time.Duration

	// Broker is the broker URL; "" starts an embedded broker (mochi-mqtt)
	// on a free loopback port, which the run stops and restarts itself.
	Broker string
	// Control stops and restarts the broker at Broker for the outage
	// (required with Broker).
	Control BrokerControl
	// Share is the consumer's shared-subscription group ("" = a plain
	// subscription); not used with the embedded broker, whose consumer
	// subscribes inline.
	Share string
	// Dir holds one directory per store (outbox, status socket).
	Dir string
	// IDPrefix starts the store ids (<prefix>-0001...); default "store".
	// Give each of several fleet-sim processes on one broker its own.
	IDPrefix string

	// The agents' upstream settings (see docs/FLEET.md). ReconnectSpread
	// and BacklogRate mean what they mean to the agent (0 = no floor: the
	// window doubles from 1 s; 0 = an unlimited drain); BackoffMax
	// defaults to the agent's (2m).
	ReconnectSpread time.Duration
	BackoffMax      time.Duration
	BacklogRate     float64

	// People per minute (store time) at each store's door counter and
	// storefront counter; defaults 4 and 20.
	EntriesPerMin, PassersPerMin float64

	// DrainTimeout bounds the wait for every outbox to drain after the
	// outage (real time); default 2 × BackoffMax + 2 min.
	DrainTimeout time.Duration

	// Log receives the agents' errors (not the outage's expected
	// warnings, which the summary counts); nil discards them.
	Log *slog.Logger
	// Progress, when set, is told each phase as it begins.
	Progress func(format string, args ...any)
}

func (o *Options) defaults() error {
	d := config.Default().MQTT
	if o.Speedup == 0 {
		o.Speedup = 30
	}
	if o.Outage == 0 {
		o.Outage = time.Hour
	}
	if o.Warmup == 0 {
		o.Warmup = 10 * time.Minute
	}
	if o.Tail == 0 {
		o.Tail = 5 * time.Second
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = d.BackoffMax
	}
	if o.EntriesPerMin == 0 {
		o.EntriesPerMin = 4
	}
	if o.PassersPerMin == 0 {
		o.PassersPerMin = 20
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 2*o.BackoffMax + 2*time.Minute
	}
	if o.IDPrefix == "" {
		o.IDPrefix = "store"
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	switch {
	case o.Stores < 1:
		return fmt.Errorf("stores: must be at least 1, got %d", o.Stores)
	case o.Speedup < 1:
		return fmt.Errorf("speedup: must be at least 1, got %v", o.Speedup)
	case o.Outage < 0:
		return fmt.Errorf("outage: must be >= 0, got %v", o.Outage)
	case o.BacklogRate < 0:
		return fmt.Errorf("backlog rate: must be >= 0 (0 = unlimited), got %v", o.BacklogRate)
	case o.ReconnectSpread < 0:
		return fmt.Errorf("reconnect spread: must be >= 0 (0 = no floor), got %v", o.ReconnectSpread)
	case o.Broker != "" && o.Control == nil && o.Outage > 0:
		return errors.New("broker: an external broker needs a way to stop and restart it for the outage (--broker-cmd)")
	case o.Dir == "":
		return errors.New("dir: missing")
	}
	return nil
}

// Summary is what a fleet run measured. Window counts are window messages
// (one per sensor and one per store, per window): what the cloud receives.
type Summary struct {
	Stores  int     `json:"stores"`
	Broker  string  `json:"broker"` // "embedded" or the URL
	Speedup float64 `json:"speedup"`
	// OutageS is the outage in store time; OutageRealS in real time.
	OutageS     float64 `json:"outage_s"`
	OutageRealS float64 `json:"outage_real_s"`

	WindowsCommitted uint64 `json:"windows_committed"`
	WindowsDelivered uint64 `json:"windows_delivered"` // distinct ids
	Deliveries       uint64 `json:"deliveries"`        // duplicates included
	// Lost: committed, never delivered, and not in any outbox at the end
	// (records dropped by an outbox bound count here too).
	Lost       uint64 `json:"lost"`
	Duplicates uint64 `json:"duplicates"`
	InOutbox   uint64 `json:"in_outbox"` // still waiting at the end
	// ConsumerLagAtFreeze is how many committed windows the consumer had
	// not yet received when store time froze (queued in the broker or in
	// flight), and ConsumerCatchUpS how long it then took to get them.
	ConsumerLagAtFreeze uint64  `json:"consumer_lag_at_freeze"`
	ConsumerCatchUpS    float64 `json:"consumer_catch_up_s"`
	Dropped             uint64  `json:"dropped"` // outbox bound drops (outbox.dropped)
	Invalid             uint64  `json:"invalid"` // unparseable window messages

	// The reconnect storm after the outage, seen from the agents: connects
	// per one-second bucket, their spread (first to last) and the bound the
	// settings promise (2N / reconnect_spread at the head of the wave).
	// ConnectRateHeadPerS is 2N / W, the rate at the head of the wave;
	// ConnectBoundPerS adds three standard deviations of a one-second
	// count (the arrivals are random: Poisson), the most one second should
	// see. MaxConnectsPer10S smooths that noise.
	Reconnects          int     `json:"reconnects"`
	MaxConnectsPerS     int     `json:"max_connects_per_s"`
	MaxConnectsPer10S   int     `json:"max_connects_per_10s"`
	MeanConnectsPerS    float64 `json:"mean_connects_per_s"`
	ConnectRateHeadPerS float64 `json:"connect_rate_head_per_s"`
	ConnectBoundPerS    float64 `json:"connect_bound_per_s"`
	ConnectsPerS        []int   `json:"connects_per_s"` // per second after the broker started
	// BrokerMaxConnectsPerS is the peak second in the broker's own log
	// (Mosquitto run by --broker-cmd or the tests), when there is one.
	BrokerMaxConnectsPerS int     `json:"broker_max_connects_per_s,omitempty"`
	ReconnectSpreadS      float64 `json:"reconnect_spread_s"`
	FailedConnects        int     `json:"failed_connects"` // during the outage and after
	MaxFailedConnectsPer  int     `json:"max_failed_connects_per_s"`

	// DrainS is outage end → every store's backlog acked.
	DrainS float64 `json:"drain_s"`
	// Live latency: window end → delivery (real seconds) of the fresh
	// windows closed after the outage; "during drain" counts those that
	// arrived while some store still drained. Before is the same before the
	// outage, for comparison.
	LiveLatencyP50S        float64 `json:"live_latency_p50_s"`
	LiveLatencyP99S        float64 `json:"live_latency_p99_s"`
	LiveLatencyMaxS        float64 `json:"live_latency_max_s"`
	LiveWindows            int     `json:"live_windows"`
	DrainLiveLatencyP99S   float64 `json:"drain_live_latency_p99_s"`
	DrainLiveWindows       int     `json:"drain_live_windows"`
	BeforeLiveLatencyP99S  float64 `json:"before_live_latency_p99_s"`
	HistoricalWindows      uint64  `json:"historical_windows"`
	AgentSettingsSpreadS   float64 `json:"reconnect_spread_setting_s"`
	AgentSettingsBackoffS  float64 `json:"backoff_max_setting_s"`
	AgentSettingsBacklogPS float64 `json:"backlog_rate_setting"`

	// Cost of the simulation process (all stores, the consumer and, in
	// embedded mode, the broker) and of an external broker.
	// HeapLiveBytes is the peak before the outage (the stores, and the
	// consumer's few ids so far); per store is that over Stores. The peak
	// of the whole run includes the consumer's dedupe set.
	HeapPeakBytes     uint64  `json:"heap_peak_bytes"`
	HeapLiveBytes     uint64  `json:"heap_live_bytes"`
	HeapPerStoreBytes uint64  `json:"heap_per_store_bytes"`
	Goroutines        int     `json:"goroutines_peak"`
	CPUS              float64 `json:"cpu_s"`
	CPULiveCores      float64 `json:"cpu_live_cores"` // cores used in the steady state before the outage
	BrokerCPUS        float64 `json:"broker_cpu_s,omitempty"`
	RealS             float64 `json:"real_s"`
	LoadAvg           string  `json:"loadavg"` // at the end

	Warnings map[string]int `json:"agent_warnings"` // by message
}

type store struct {
	id    string
	a     *agent.Agent
	done  chan struct{}
	drain time.Time // when its backlog was acked
}

// Run runs the fleet: start, warm up, outage, recovery, drain, tail, then
// freeze store time, let every outbox empty, stop and count.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	realStart := time.Now()
	cpuStart := cpuTime()
	sum := &Summary{Stores: o.Stores, Broker: o.Broker, Speedup: o.Speedup, OutageS: o.Outage.Seconds(),
		AgentSettingsSpreadS: o.ReconnectSpread.Seconds(), AgentSettingsBackoffS: o.BackoffMax.Seconds(),
		AgentSettingsBacklogPS: o.BacklogRate}
	const prefix = "edge-agent"

	consumer := NewConsumer()
	consumer.StorePrefix = o.IDPrefix + "-"
	var (
		latMu                  gosync.Mutex
		before, after          []float64
		afterAt                []time.Time
		outageStart, outageEnd time.Time
	)
	clock := NewClock(time.Now().UTC(), o.Speedup)
	consumer.Observe = func(d Delivery) {
		if d.Historical {
			return
		}
		closed := clock.RealOf(d.WindowEnd)
		lat := d.At.Sub(closed).Seconds()
		latMu.Lock()
		defer latMu.Unlock()
		switch {
		case outageStart.IsZero():
			before = append(before, lat)
		case !outageEnd.IsZero() && closed.After(outageEnd):
			after = append(after, lat)
			afterAt = append(afterAt, d.At)
		}
	}

	control := o.Control
	url := o.Broker
	if url == "" {
		e, err := startEmbedded(consumer, prefix)
		if err != nil {
			return nil, err
		}
		defer func() { _ = e.Stop() }()
		control, url, sum.Broker = e, e.url(), "embedded"
	} else {
		stop, err := consumer.Subscribe(ctx, SubscribeOptions{Broker: url, ClientID: "fleet-consumer-" + o.IDPrefix, TopicPrefix: prefix, Share: o.Share})
		if err != nil {
			return nil, fmt.Errorf("consumer: %w", err)
		}
		defer stop()
	}

	tap := newLogTap(o.Log)
	log := slog.New(tap.handler())
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	o.Progress("starting %d stores against %s", o.Stores, sum.Broker)
	stores := make([]*store, 0, o.Stores)
	defer func() { // on an early return: stop what runs
		cancel()
		for _, s := range stores {
			<-s.done
		}
	}()
	for i := range o.Stores {
		s, err := newStore(i, url, clock, log, &o)
		if err != nil {
			return nil, err
		}
		stores = append(stores, s)
		go func() {
			defer close(s.done)
			if err := s.a.Run(runCtx); err != nil {
				log.Error("agent stopped", "store", s.id, "err", err)
			}
		}()
		// A fleet does not boot in the same millisecond: spread the starts
		// over about a second of real time.
		if o.Stores > 1 {
			time.Sleep(time.Second / time.Duration(o.Stores))
		}
	}
	if err := waitAll(ctx, stores, time.Minute, func(r agent.Report) bool { return r.Broker.Connected }); err != nil {
		return nil, fmt.Errorf("connecting the fleet: %w", err)
	}

	mon := newMonitor()
	o.Progress("all %d connected; warm-up of %v store time", o.Stores, o.Warmup)
	liveCPU0, liveT0 := cpuTime(), time.Now()
	if !mon.sleep(ctx, clock.Real(o.Warmup)) {
		return nil, ctx.Err()
	}
	sum.CPULiveCores = (cpuTime() - liveCPU0).Seconds() / time.Since(liveT0).Seconds()
	sum.HeapLiveBytes, _ = mon.peak()
	sum.HeapPerStoreBytes = sum.HeapLiveBytes / uint64(o.Stores)

	o.Progress("outage: broker stopped for %v store time (%v real)", o.Outage, clock.Real(o.Outage).Round(time.Millisecond))
	latMu.Lock()
	outageStart = time.Now()
	latMu.Unlock()
	if o.Outage > 0 {
		if err := control.Stop(); err != nil {
			return nil, fmt.Errorf("stopping the broker: %w", err)
		}
		if !mon.sleep(ctx, clock.Real(o.Outage)) {
			return nil, ctx.Err()
		}
	}
	// The outage ends when the broker is started: a store may connect
	// before Start has seen it listen.
	latMu.Lock()
	outageEnd = time.Now()
	latMu.Unlock()
	if o.Outage > 0 {
		if err := control.Start(); err != nil {
			return nil, fmt.Errorf("restarting the broker: %w", err)
		}
	}
	sum.OutageRealS = outageEnd.Sub(outageStart).Seconds()
	o.Progress("broker back; waiting for every store to reconnect and drain (at most %v)", o.DrainTimeout)

	drainErr := waitDrained(ctx, stores, outageEnd, o.DrainTimeout, mon)
	drainEnd := time.Now()
	for _, s := range stores {
		if !s.drain.IsZero() {
			sum.DrainS = math.Max(sum.DrainS, s.drain.Sub(outageEnd).Seconds())
		}
	}
	if drainErr == nil {
		drainEnd = outageEnd.Add(time.Duration(sum.DrainS * float64(time.Second)))
		o.Progress("drained in %.1fs; %v of calm", sum.DrainS, o.Tail)
		mon.sleep(ctx, o.Tail)
	}

	// Freeze store time: no window closes any more; every outbox empties.
	clock.Freeze()
	o.Progress("store time frozen; waiting for the outboxes to empty")
	_ = waitAll(ctx, stores, 30*time.Second, func(r agent.Report) bool { return r.Outbox.Depth == 0 })
	var committed uint64
	for _, s := range stores {
		committed += s.a.Report().Outbox.LastSeq
	}
	// The broker may still hold a queue for the consumer: wait while it
	// makes progress.
	frozen := time.Now()
	w0, _, _, _ := consumer.Counts()
	sum.ConsumerLagAtFreeze = committed - min(w0, committed)
	for last, lastAt := w0, time.Now(); ; time.Sleep(100 * time.Millisecond) {
		w, _, _, _ := consumer.Counts()
		if w >= committed {
			break
		}
		if w != last {
			last, lastAt = w, time.Now()
		} else if time.Since(lastAt) > 10*time.Second {
			break
		}
	}
	sum.ConsumerCatchUpS = time.Since(frozen).Seconds()
	cancel()
	for _, s := range stores {
		<-s.done
	}
	stores = nil // stopped: the deferred stop has nothing left to do

	// Count from the outboxes themselves, reopened.
	for i := range o.Stores {
		dir := o.storeDir(i)
		c, err := countStore(dir, consumer, o.storeID(i))
		if err != nil {
			return nil, err
		}
		sum.WindowsCommitted += c.committed
		sum.Lost += c.lost
		sum.InOutbox += c.pending
		sum.Dropped += c.dropped
	}
	sum.WindowsDelivered, sum.Deliveries, sum.Duplicates, sum.Invalid = consumer.Counts()
	for _, t := range consumer.Totals() {
		sum.HistoricalWindows += t.Historical
	}

	connects, failures := tap.since(outageEnd)
	_, failsAll := tap.since(outageStart)
	sum.Reconnects = len(connects)
	sum.MaxConnectsPerS, _ = perSecond(connects, outageEnd)
	if len(connects) > 0 {
		span := connects[len(connects)-1].Sub(outageEnd)
		sum.ReconnectSpreadS = span.Seconds()
		sum.MeanConnectsPerS = float64(len(connects)) / math.Max(span.Seconds(), 1)
	}
	if w := min(o.ReconnectSpread, o.BackoffMax); w > 0 { // no floor, no promise
		head := 2 * float64(o.Stores) / w.Seconds()
		sum.ConnectRateHeadPerS = head
		sum.ConnectBoundPerS = head + 3*math.Sqrt(head)
	}
	sum.MaxConnectsPer10S, _ = perWindow(connects, outageEnd, 10*time.Second)
	sum.ConnectsPerS = histogram(connects, outageEnd)
	if cl, ok := control.(interface{ ConnectTimes(time.Time) []time.Time }); ok {
		if ts := cl.ConnectTimes(outageEnd); len(ts) > 0 {
			sum.BrokerMaxConnectsPerS, _ = perWindow(ts, outageEnd.Truncate(time.Second), time.Second)
		}
	}
	sum.FailedConnects = len(failsAll)
	sum.MaxFailedConnectsPer, _ = perSecond(failures, outageEnd)
	if p, _ := perSecond(failsAll, outageStart); p > sum.MaxFailedConnectsPer {
		sum.MaxFailedConnectsPer = p
	}

	latMu.Lock()
	var during []float64
	for i, at := range afterAt {
		if at.Before(drainEnd) {
			during = append(during, after[i])
		}
	}
	sum.LiveWindows, sum.DrainLiveWindows = len(after), len(during)
	sum.LiveLatencyP50S = quantile(after, 0.5)
	sum.LiveLatencyP99S = quantile(after, 0.99)
	sum.LiveLatencyMaxS = quantile(after, 1)
	sum.DrainLiveLatencyP99S = quantile(during, 0.99)
	sum.BeforeLiveLatencyP99S = quantile(before, 0.99)
	latMu.Unlock()

	sum.HeapPeakBytes, sum.Goroutines = mon.peak()
	sum.CPUS = (cpuTime() - cpuStart).Seconds()
	if c, ok := control.(interface{ CPU() time.Duration }); ok {
		sum.BrokerCPUS = c.CPU().Seconds()
	}
	sum.RealS = time.Since(realStart).Seconds()
	sum.LoadAvg = loadAvg()
	sum.Warnings = tap.warnings()
	return sum, drainErr
}

func (o *Options) storeID(i int) string  { return fmt.Sprintf("%s-%04d", o.IDPrefix, i+1) }
func (o *Options) storeDir(i int) string { return filepath.Join(o.Dir, o.storeID(i)) }

// storeYAML is one store's configuration: a door counter and a storefront
// counter (pulse outputs), the fleet's upstream settings.
func storeYAML(i int, url string, o *Options) string {
	dir := o.storeDir(i)
	return fmt.Sprintf(`store_id: %s
agent_id: pi
state_dir: %q
status_socket: %q
window: %s
timezone: UTC
# At 60x a goroutine descheduled for 40 ms sees the store clock jump 2.4 s.
clock: {require_sync: false, step_tolerance: 10m}
mqtt:
  broker: %q
  backoff_min: 1s
  backoff_max: %s
  reconnect_spread: %s
  backlog_rate: %g
buffer:
  flush_interval: 1s
sensors:
  - id: door
    kind: pulse
    role: entrance
    pins: {in: GPIO20, out: GPIO21}
  - id: street
    kind: pulse
    role: passerby
    pins: {pass: GPIO22}
`, o.storeID(i), dir, filepath.Join(dir, "status.sock"), o.Window, url, o.BackoffMax, o.ReconnectSpread, o.BacklogRate)
}

func newStore(i int, url string, clock *Clock, log *slog.Logger, o *Options) (*store, error) {
	id := o.storeID(i)
	cfg, err := config.Parse(id+".yaml", []byte(storeYAML(i, url, o)))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", id, err)
	}
	seed := uint64(i + 1)
	open := func(si int, sc config.SensorConfig, _ *agent.SourceEnv) (agent.Source, error) {
		if sc.Role == "passerby" {
			return newPulseSource(clock, seed*131+uint64(si), o.PassersPerMin, 2), nil
		}
		return newPulseSource(clock, seed*131+uint64(si), o.EntriesPerMin, 0, 1), nil
	}
	a, err := agent.New(cfg, log.With("store", id), agent.Options{Version: "fleet-sim", Clock: clock, OpenSource: open})
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", id, err)
	}
	return &store{id: id, a: a, done: make(chan struct{})}, nil
}

// waitAll polls every store's report until ok holds for all, or timeout.
func waitAll(ctx context.Context, stores []*store, timeout time.Duration, ok func(agent.Report) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		n := 0
		for _, s := range stores {
			if ok(s.a.Report()) {
				n++
			}
		}
		if n == len(stores) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d stores not there after %v", len(stores)-n, len(stores), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitDrained waits until every store reconnected after end and acked its
// whole backlog: nothing pending, or only records committed after this
// connection came up (fresh ones).
func waitDrained(ctx context.Context, stores []*store, end time.Time, timeout time.Duration, mon *monitor) error {
	deadline := time.Now().Add(timeout)
	for {
		left := 0
		now := time.Now()
		for _, s := range stores {
			if !s.drain.IsZero() {
				continue
			}
			r := s.a.Report()
			b := r.Broker
			if b.Connected && b.Since.After(end) && b.Backlog == 0 &&
				(r.Outbox.Depth == 0 || r.Outbox.OldestAt.After(b.Since)) {
				s.drain = now
				continue
			}
			left++
		}
		mon.sample()
		if left == 0 {
			return nil
		}
		if now.After(deadline) {
			return fmt.Errorf("%d of %d stores had not drained %v after the outage", left, len(stores), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

type storeCount struct{ committed, lost, pending, dropped uint64 }

// countStore reopens a stopped store's outbox: what it committed, what is
// still in it, and what is in neither the outbox nor the consumer's tally.
func countStore(dir string, c *Consumer, id string) (storeCount, error) {
	var sc storeCount
	ob, err := buffer.Open(filepath.Join(dir, "outbox.db"), buffer.DefaultOptions(), nil)
	if err != nil {
		return sc, fmt.Errorf("store %s: reopening the outbox: %w", id, err)
	}
	defer ob.Close()
	st := ob.Stats()
	pending := map[uint64]bool{}
	for after := uint64(0); ; {
		recs, err := ob.Pending(after, 1000)
		if err != nil {
			return sc, fmt.Errorf("store %s: %w", id, err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			pending[r.Seq] = true
		}
		after = recs[len(recs)-1].Seq
	}
	sc.committed, sc.pending, sc.dropped = st.LastSeq, uint64(len(pending)), st.Dropped
	for seq := uint64(1); seq <= st.LastSeq; seq++ {
		if !pending[seq] && !c.Delivered(id, "pi", seq) {
			sc.lost++
		}
	}
	return sc, nil
}

// monitor samples the process's heap and goroutines while the fleet runs.
type monitor struct {
	mu         gosync.Mutex
	heap       uint64
	goroutines int
}

func newMonitor() *monitor { m := &monitor{}; m.sample(); return m }

func (m *monitor) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := runtime.NumGoroutine()
	m.mu.Lock()
	m.heap = max(m.heap, ms.HeapInuse+ms.StackInuse)
	m.goroutines = max(m.goroutines, g)
	m.mu.Unlock()
}

func (m *monitor) peak() (uint64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heap, m.goroutines
}

// sleep waits d, sampling every second; false when ctx ended.
func (m *monitor) sleep(ctx context.Context, d time.Duration) bool {
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(min(left, time.Second)):
			m.sample()
		}
	}
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
