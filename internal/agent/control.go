package agent

// The control stream: on the status socket, {"cmd":"subscribe",...} turns
// the connection into a live feed of the daemon's readings, events, closed
// windows and status, one JSON object a line, until the client hangs up.
// `edge-agent record` and `edge-agent watch` are built on it, since the
// daemon owns the buses and nothing else may open them while it runs.
//
// The daemon never waits for a subscriber: each has a bounded queue, and
// what does not fit is dropped and counted (reported in its status lines).

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Stream parts a subscriber may ask for ("what").
const (
	StreamReadings = "readings"
	StreamEvents   = "events"
	StreamWindows  = "windows"
	StreamStatus   = "status"
)

// subQueue is how many items a subscriber may lag behind before items are
// dropped: a few seconds of a busy store's readings.
const subQueue = 8192

// statusEvery is how often a subscriber asking for status gets a line.
const statusEvery = 500 * time.Millisecond

// writeTimeout bounds one write to a subscriber: a client that stops
// reading is disconnected rather than holding a goroutine forever.
const writeTimeout = 10 * time.Second

type streamMask uint8

const (
	maskReadings streamMask = 1 << iota
	maskEvents
	maskWindows
	maskStatus
)

// StreamRequest is a control request on the status socket.
type StreamRequest struct {
	Cmd     string   `json:"cmd"`               // "subscribe" (or "status", "calibrate")
	What    []string `json:"what,omitempty"`    // readings, events, windows, status; empty = all
	Sensors []string `json:"sensors,omitempty"` // sensor ids; empty = all
	// calibrate: the sensor and its new kind keys (calibration.go).
	Sensor string            `json:"sensor,omitempty"`
	Params map[string]string `json:"params,omitempty"`
}

// StreamSensor declares one sensor in the stream's header, with what a
// trace-v1 "# sensor" line needs and what a live view draws against.
type StreamSensor struct {
	ID             string            `json:"id"`
	Kind           string            `json:"kind"`
	Role           string            `json:"role"`
	DwellMinMs     int64             `json:"dwell_min_ms,omitempty"`
	RepeatMs       int64             `json:"repeat_ms,omitempty"`
	CountsEntrants *bool             `json:"counts_entrants,omitempty"`
	Shelf          string            `json:"shelf,omitempty"`
	Params         map[string]string `json:"params,omitempty"`
	Channels       []string          `json:"channels"`
	Simulated      bool              `json:"simulated,omitempty"`
	// ThresholdMM is a distance sensor's occupied threshold below its
	// baseline (its params or the detector's default); 0 for level sensors.
	ThresholdMM int64 `json:"threshold_mm,omitempty"`
}

// Spec rebuilds the sensor's spec, for a trace header.
func (s StreamSensor) Spec() (sensor.Spec, error) {
	var kv [][2]string
	if s.DwellMinMs != 0 {
		kv = append(kv, [2]string{"dwell_min_ms", strconv.FormatInt(s.DwellMinMs, 10)})
	}
	if s.RepeatMs != 0 {
		kv = append(kv, [2]string{"repeat_ms", strconv.FormatInt(s.RepeatMs, 10)})
	}
	if s.CountsEntrants != nil {
		kv = append(kv, [2]string{"counts_entrants", strconv.FormatBool(*s.CountsEntrants)})
	}
	if s.Shelf != "" {
		kv = append(kv, [2]string{"shelf", s.Shelf})
	}
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv = append(kv, [2]string{k, s.Params[k]})
	}
	return sensor.NewSpec(s.ID, sensor.Kind(s.Kind), sensor.Role(s.Role), kv)
}

// DetectorStatus is what a sensor's detector knows of it: a distance
// sensor's learned baseline, invalid share.
type DetectorStatus struct {
	Sensor       string  `json:"sensor"`
	Learned      bool    `json:"learned"`
	BaselineMM   []int   `json:"baseline_mm,omitempty"`
	Readings     uint64  `json:"readings"`
	InvalidShare float64 `json:"invalid_share"`
}

// StreamLine is one line of the stream. Type says which fields are set:
//
//	header:  Start (wall time of t_ms 0), TMs (now), Sensors
//	reading: TMs, Sensor, Channel, Value or Token (pseudonymized hex)
//	event:   TMs, Sensor, Event (entry, exit, passerby, stop_by, tap, checkin)
//	window:  Start, End, Counts (sensor id -> role counters)
//	status:  TMs, Status, Detectors, Dropped (this subscriber's, so far)
//	error:   Error
type StreamLine struct {
	Type      string                      `json:"type"`
	TMs       int64                       `json:"t_ms"`
	Sensor    string                      `json:"sensor,omitempty"`
	Channel   string                      `json:"channel,omitempty"`
	Value     int64                       `json:"value"`
	Token     string                      `json:"token,omitempty"`
	Event     string                      `json:"event,omitempty"`
	Start     time.Time                   `json:"start,omitzero"`
	End       time.Time                   `json:"end,omitzero"`
	Sensors   []StreamSensor              `json:"sensors,omitempty"`
	Counts    map[string]map[string]int64 `json:"counts,omitempty"`
	Status    *Report                     `json:"status,omitempty"`
	Detectors []DetectorStatus            `json:"detectors,omitempty"`
	Dropped   uint64                      `json:"dropped,omitempty"`
	Error     string                      `json:"error,omitempty"`
}

// streamItem is what the daemon hands a subscriber's queue: small, no
// pointer to chase for readings and events, so fan-out allocates nothing.
type streamItem struct {
	mask streamMask
	r    sensor.Reading // readings; events use TMs, Sensor and ev
	ev   sensor.EventType
	line []byte // windows: the encoded line, shared by all subscribers
}

type subscriber struct {
	q       chan streamItem
	mask    streamMask
	sensors []bool // by sensor index; nil = all
	dropped atomic.Uint64
}

// hub fans the daemon's data out to its subscribers. The subscriber list is
// copied on change so the hot path reads it with one atomic load.
type hub struct {
	mu   gosync.Mutex
	subs atomic.Pointer[[]*subscriber]
}

func (h *hub) add(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var cur []*subscriber
	if p := h.subs.Load(); p != nil {
		cur = *p
	}
	next := append(append(make([]*subscriber, 0, len(cur)+1), cur...), s)
	h.subs.Store(&next)
}

func (h *hub) remove(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.subs.Load()
	if p == nil {
		return
	}
	next := make([]*subscriber, 0, len(*p))
	for _, x := range *p {
		if x != s {
			next = append(next, x)
		}
	}
	if len(next) == 0 {
		h.subs.Store(nil)
		return
	}
	h.subs.Store(&next)
}

// wants reports whether any subscriber asks for m (cheap: callers skip
// building what nobody reads).
func (h *hub) wants(m streamMask) bool {
	p := h.subs.Load()
	if p == nil {
		return false
	}
	for _, s := range *p {
		if s.mask&m != 0 {
			return true
		}
	}
	return false
}

// publish offers it to every subscriber that asked for it; a full queue
// drops it for that subscriber. sensor < 0 means every sensor's subscribers.
func (h *hub) publish(it streamItem, sensor int) {
	p := h.subs.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		if s.mask&it.mask == 0 || (sensor >= 0 && s.sensors != nil && !s.sensors[sensor]) {
			continue
		}
		select {
		case s.q <- it:
		default:
			s.dropped.Add(1)
		}
	}
}

// publishEvents hands the events a pipeline call detected to the stream's
// subscribers, with the detectors' own times.
func (a *Agent) publishEvents(evs []sensor.Event) {
	if len(evs) == 0 || !a.hub.wants(maskEvents) {
		return
	}
	for _, e := range evs {
		a.hub.publish(streamItem{mask: maskEvents, r: sensor.Reading{TMs: e.TMs, Sensor: e.Sensor}, ev: e.Type}, e.Sensor)
	}
}

// publishWindows encodes closed windows once for all window subscribers.
func (a *Agent) publishWindows(ws []aggregate.Window) {
	if len(ws) == 0 || !a.hub.wants(maskWindows) {
		return
	}
	for wi := range ws {
		w := &ws[wi]
		l := StreamLine{Type: "window", Start: time.UnixMilli(w.Start).UTC(), End: time.UnixMilli(w.End).UTC(),
			Counts: map[string]map[string]int64{}}
		for i, s := range a.specs {
			if i < len(w.Sensors) {
				l.Counts[s.ID] = roleCounts(s.Role, w.Sensors[i])
			}
		}
		b, err := json.Marshal(l)
		if err != nil {
			continue
		}
		a.hub.publish(streamItem{mask: maskWindows, line: append(b, '\n')}, -1)
	}
}

// streamSensors declares the sensors for a stream's header. A distance
// sensor's learned baseline goes into its params, so a trace recorded now
// replays with the baseline the daemon was using rather than relearning it.
func (a *Agent) streamSensors(dets []detect.Health) []StreamSensor {
	out := make([]StreamSensor, len(a.specs))
	for i, s := range a.specs {
		def, _ := sensor.NewSpec(s.ID, s.Kind, s.Role, nil)
		ss := StreamSensor{ID: s.ID, Kind: string(s.Kind), Role: string(s.Role), Shelf: s.Shelf,
			Channels: s.Kind.Channels(), Simulated: a.sensors[i].simulated, Params: map[string]string{}}
		if s.DwellMinMs != def.DwellMinMs {
			ss.DwellMinMs = s.DwellMinMs
		}
		if s.RepeatMs != def.RepeatMs {
			ss.RepeatMs = s.RepeatMs
		}
		if s.CountsEntrants != def.CountsEntrants {
			ce := s.CountsEntrants
			ss.CountsEntrants = &ce
		}
		params := a.sensorParams(i) // calibrated since start, maybe
		for k, v := range params {
			ss.Params[k] = v
		}
		for _, p := range detect.Params(s.Kind) {
			if p.Name == "threshold_mm" {
				ss.ThresholdMM = p.Default
				if v, err := strconv.ParseInt(params["threshold_mm"], 10, 64); err == nil {
					ss.ThresholdMM = v
				}
			}
		}
		if i < len(dets) && dets[i].Learned {
			switch s.Kind {
			case sensor.KindToF2Zone:
				for z, key := range []string{"baseline_z0_mm", "baseline_z1_mm"} {
					if _, set := ss.Params[key]; !set && dets[i].BaselineMM[z] > 0 {
						ss.Params[key] = strconv.Itoa(dets[i].BaselineMM[z])
					}
				}
			case sensor.KindToFPresence:
				if _, set := ss.Params["baseline_mm"]; !set && dets[i].BaselineMM[0] > 0 {
					ss.Params["baseline_mm"] = strconv.Itoa(dets[i].BaselineMM[0])
				}
			}
		}
		if len(ss.Params) == 0 {
			ss.Params = nil
		}
		out[i] = ss
	}
	return out
}

// detectorStatus turns the detectors' health (copied by the pipeline
// goroutine) into the stream's form.
func (a *Agent) detectorStatus(dets []detect.Health) []DetectorStatus {
	out := make([]DetectorStatus, 0, len(dets))
	for i, h := range dets {
		d := DetectorStatus{Sensor: a.specs[i].ID, Learned: h.Learned, Readings: h.Readings, InvalidShare: h.InvalidShare}
		switch a.specs[i].Kind {
		case sensor.KindToF2Zone:
			d.BaselineMM = []int{h.BaselineMM[0], h.BaselineMM[1]}
		case sensor.KindToFPresence:
			d.BaselineMM = []int{h.BaselineMM[0]}
		}
		out = append(out, d)
	}
	return out
}

// parseStream checks a subscribe request against the daemon's sensors.
func (a *Agent) parseStream(req StreamRequest) (*subscriber, error) {
	s := &subscriber{}
	if len(req.What) == 0 {
		s.mask = maskReadings | maskEvents | maskWindows | maskStatus
	}
	for _, w := range req.What {
		switch w {
		case StreamReadings:
			s.mask |= maskReadings
		case StreamEvents:
			s.mask |= maskEvents
		case StreamWindows:
			s.mask |= maskWindows
		case StreamStatus:
			s.mask |= maskStatus
		default:
			return nil, fmt.Errorf("unknown stream part %q (known: readings, events, windows, status)", w)
		}
	}
	if len(req.Sensors) > 0 {
		s.sensors = make([]bool, len(a.specs))
		for _, id := range req.Sensors {
			i := a.sensorIndex(id)
			if i < 0 {
				return nil, fmt.Errorf("unknown sensor %q (known: %s)", id, strings.Join(a.sensorIDs(), ", "))
			}
			s.sensors[i] = true
		}
	}
	return s, nil
}

func (a *Agent) sensorIndex(id string) int {
	for i, s := range a.specs {
		if s.ID == id {
			return i
		}
	}
	return -1
}

func (a *Agent) sensorIDs() []string {
	ids := make([]string, len(a.specs))
	for i, s := range a.specs {
		ids[i] = s.ID
	}
	return ids
}

// serveStream runs one subscription on c until the client hangs up or the
// daemon stops.
func (a *Agent) serveStream(ctx context.Context, c net.Conn, br *bufio.Reader, req StreamRequest) {
	sub, err := a.parseStream(req)
	bw := bufio.NewWriterSize(c, 32<<10)
	if err != nil {
		writeLine(bw, StreamLine{Type: "error", Error: err.Error()})
		bw.Flush()
		return
	}
	_ = c.SetDeadline(time.Time{})
	sub.q = make(chan streamItem, subQueue)
	a.hub.add(sub)
	defer a.hub.remove(sub)

	// The header: after add, so nothing between it and the first item is
	// missed by a client writing a trace.
	start, dets := a.streamView()
	hdr := StreamLine{Type: "header", Start: start, TMs: a.mono(a.clock.Now()), Sensors: a.streamSensors(dets)}
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if writeLine(bw, hdr) != nil || bw.Flush() != nil {
		return
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The client sends nothing more: a read returns when it hangs up.
		_, _ = br.ReadByte()
		cancel()
	}()
	var tick <-chan time.Time
	if sub.mask&maskStatus != 0 {
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		tick = t.C
	}
	buf := make([]byte, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-sub.q:
			buf = a.appendItem(buf[:0], it)
			_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := bw.Write(buf); err != nil {
				return
			}
			if len(sub.q) == 0 && bw.Flush() != nil {
				return
			}
		case <-tick:
			_, dets := a.streamView()
			r := a.Report()
			_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
			l := StreamLine{Type: "status", TMs: a.mono(a.clock.Now()), Status: &r, Detectors: a.detectorStatus(dets), Dropped: sub.dropped.Load()}
			if writeLine(bw, l) != nil || bw.Flush() != nil {
				return
			}
		}
	}
}

// appendItem encodes a reading or an event by hand: they are most of the
// stream, and their fields need no escaping (ids and channels are checked
// names, tokens hex).
func (a *Agent) appendItem(b []byte, it streamItem) []byte {
	switch it.mask {
	case maskWindows:
		return append(b, it.line...)
	case maskEvents:
		b = append(b, `{"type":"event","t_ms":`...)
		b = strconv.AppendInt(b, it.r.TMs, 10)
		b = append(b, `,"sensor":"`...)
		b = append(b, a.specs[it.r.Sensor].ID...)
		b = append(b, `","event":"`...)
		b = append(b, it.ev.String()...)
		return append(b, "\"}\n"...)
	}
	s := a.specs[it.r.Sensor]
	b = append(b, `{"type":"reading","t_ms":`...)
	b = strconv.AppendInt(b, it.r.TMs, 10)
	b = append(b, `,"sensor":"`...)
	b = append(b, s.ID...)
	b = append(b, `","channel":"`...)
	if chs := s.Kind.Channels(); it.r.Channel >= 0 && it.r.Channel < len(chs) {
		b = append(b, chs[it.r.Channel]...)
	}
	if s.Kind.TokenValued() {
		// Tokens reach the agent pseudonymized by the reader source;
		// they are passed on as such, never a raw UID.
		b = append(b, `","token":"`...)
		b = hex.AppendEncode(b, it.r.Token)
		return append(b, "\"}\n"...)
	}
	b = append(b, `","value":`...)
	b = strconv.AppendInt(b, it.r.Value, 10)
	return append(b, "}\n"...)
}

func writeLine(bw *bufio.Writer, l StreamLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := bw.Write(append(b, '\n')); err != nil {
		return err
	}
	return nil
}

// Stream is a client's subscription: to a running daemon over its status
// socket, or to the sensors read in this process when none runs (Connect,
// local.go). Both give the same lines.
type Stream struct {
	c      net.Conn
	dec    *json.Decoder
	header StreamLine
	path   string // the daemon's socket; "" for a local stream
	local  *Local // the sensors this process reads, closed with the stream
}

// Subscribe asks the daemon listening on path for a live stream. The
// header is read before it returns. A daemon that is not running gives an
// error wrapping ErrNotRunning; a refused request (an unknown sensor) the
// daemon's message.
func Subscribe(path string, req StreamRequest, timeout time.Duration) (*Stream, error) {
	c, err := dialDaemon(path, timeout)
	if err != nil {
		return nil, err
	}
	s, err := handshake(c, req, timeout, "status socket "+path)
	if err != nil {
		return nil, err
	}
	s.path = path
	return s, nil
}

// handshake sends the subscribe request on c and reads the header; c is
// closed on failure. where names the other end in errors.
func handshake(c net.Conn, req StreamRequest, timeout time.Duration, where string) (*Stream, error) {
	req.Cmd = "subscribe"
	b, _ := json.Marshal(req)
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(append(b, '\n')); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s := &Stream{c: c, dec: json.NewDecoder(bufio.NewReaderSize(c, 64<<10))}
	if err := s.dec.Decode(&s.header); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: bad reply: %w", where, err)
	}
	switch {
	case s.header.Type == "error" || (s.header.Type == "" && s.header.Error != ""):
		c.Close()
		return nil, errors.New(s.header.Error)
	case s.header.Type != "header":
		c.Close()
		return nil, fmt.Errorf("%s: the daemon does not stream (an older version?)", where)
	}
	_ = c.SetDeadline(time.Time{})
	return s, nil
}

// Header is the stream's first line: the sensors and the session's start.
func (s *Stream) Header() StreamLine { return s.header }

// Next reads the next line; io.EOF when the daemon stops.
func (s *Stream) Next(l *StreamLine) error {
	*l = StreamLine{}
	return s.dec.Decode(l)
}

// Local reports whether the stream comes from sensors this process reads
// (no daemon was running) rather than from the daemon.
func (s *Stream) Local() bool { return s.local != nil }

// Calibrate calibrates sensorID with params where the stream comes from:
// the running daemon, which saves and applies it at once; or, for a local
// stream, this process's pipeline and the state directory's calibration
// file, which the daemon loads at its next start.
func (s *Stream) Calibrate(sensorID string, params map[string]string, timeout time.Duration) (CalibrationResult, error) {
	if s.local != nil {
		return s.local.Calibrate(sensorID, params, timeout)
	}
	return Calibrate(s.path, sensorID, params, timeout)
}

// Close hangs up, and stops reading the sensors of a local stream.
func (s *Stream) Close() error {
	err := s.c.Close()
	if s.local != nil {
		if lerr := s.local.Close(); err == nil {
			err = lerr
		}
	}
	return err
}
