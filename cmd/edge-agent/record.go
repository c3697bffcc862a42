package main

import (
	"container/heap"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/trace"
)

// recordGrace is how long record keeps listening after the span: readings
// cross on their way in (a pulse's start is emitted at its end) and the
// daemon dates events a settle period late, so both are collected before
// the file is closed.
const recordGrace = 2 * time.Second

type recordOptions struct {
	socket     string
	configPath string
	duration   time.Duration
	sensors    []string
	output     string
	timeout    time.Duration
}

func newRecordCmd() *cobra.Command {
	opts := &recordOptions{}
	cmd := &cobra.Command{
		Use:   "record --duration D [--sensor ID...] FILE",
		Short: "Record the sensors' raw readings as a trace-v1 file",
		Long: `Asks the running daemon (it owns the buses) for its sensors' raw readings
and writes them as a trace-v1 file, FILE or - for standard output, that
'edge-agent replay' runs through the same detection: for bug reports and for
tuning detection on a real store. The header declares each sensor with its
configured keys and, for distance sensors, the baseline the daemon had
learned, so the replay counts what the daemon counted over the same span.
NFC check-in tokens are written pseudonymized, as the daemon holds them.

At the end a summary says how many readings were written and what the daemon
counted over the span (on standard error, or standard output with
--output json when FILE is not -).

When no daemon answers on the config's status_socket, record reads the
config's sensors itself (real drivers on their buses, the emulators for
simulate: sensors) through the daemon's own detection, and says so on
standard error ("daemon not running: reading the sensors directly");
nothing is buffered or published meanwhile. With --socket, only that daemon
is asked.

Exit codes: 4 when --socket was given and no daemon answers there, 2 for an
unknown sensor id or bad flags, 3 when no daemon runs and the config cannot
be read, 1 when a sensor's bus cannot be opened (the message names the
sensor and the bus) or the file cannot be written.`,
		Example: `  edge-agent record --duration 5m store.trace
  edge-agent record -d 30s --sensor door --sensor street door.trace
  edge-agent record -d 10s - | edge-agent replay --trace -
  edge-agent record -d 1m --socket /tmp/edge-agent-demo/status.sock --output json demo.trace`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			if opts.duration <= 0 {
				return withCode(exitUsage, errors.New("--duration: give how long to record, e.g. --duration 5m"))
			}
			return runRecord(cmd, opts, args[0])
		},
	}
	cmd.Flags().DurationVarP(&opts.duration, "duration", "d", 0, "how long to record (required)")
	cmd.Flags().StringArrayVarP(&opts.sensors, "sensor", "s", nil, "record only this sensor (repeatable; default all)")
	cmd.Flags().StringVar(&opts.socket, "socket", "", "ask only the daemon on this status socket (default: the config's status_socket, else the sensors directly)")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file: its status socket, and its sensors when no daemon runs")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 3*time.Second, "how long to wait for the daemon to answer")
	outputFlag(cmd, &opts.output)
	return cmd
}

// socketPath is --socket, else the config's status_socket, else the default.
func socketPath(flag, configPath string) string {
	if flag != "" {
		return flag
	}
	sock := config.Default().StatusSocket
	if cfg, err := config.Load(configPath); err == nil && cfg.StatusSocket != "" {
		sock = cfg.StatusSocket
	}
	return sock
}

// openStream subscribes to the daemon, which owns the buses. With no
// --socket it asks the config's status_socket and, when no daemon runs
// there, reads the config's sensors in this process (say, when not nil,
// is told so); an explicit --socket means that daemon only. from names
// where the stream comes from, for messages.
func openStream(say io.Writer, socketFlag, configPath string, req agent.StreamRequest, timeout time.Duration) (st *agent.Stream, from string, err error) {
	if socketFlag != "" {
		if st, err = agent.Connect(socketFlag, nil, req, agent.ConnectOptions{Timeout: timeout}); err != nil {
			return nil, "", subscribeError(err)
		}
		return st, socketFlag, nil
	}
	sock := config.Default().StatusSocket
	cfg, cerr := config.Load(configPath)
	if cerr == nil {
		if cfg.StatusSocket != "" {
			sock = cfg.StatusSocket
		}
		if cerr = cfg.Validate(); cerr != nil {
			cfg = nil
		}
	}
	st, err = agent.Connect(sock, cfg, req, agent.ConnectOptions{Timeout: timeout, Agent: agent.Options{Version: version}})
	switch {
	case err != nil && cerr != nil && errors.Is(err, agent.ErrNotRunning):
		return nil, "", withCode(exitBadInput, fmt.Errorf("%w, and the sensors cannot be read directly: %w", err, cerr))
	case err != nil:
		return nil, "", subscribeError(err)
	case st.Local():
		if say != nil {
			fmt.Fprintln(say, "daemon not running: reading the sensors directly")
		}
		return st, "the sensors (read directly)", nil
	}
	return st, sock, nil
}

// subscribeError maps a refused subscription to its exit code.
func subscribeError(err error) error {
	switch {
	case errors.Is(err, agent.ErrNotRunning):
		return withCode(exitNotRunning, err)
	case strings.Contains(err.Error(), "unknown sensor"):
		return withCode(exitUsage, err)
	}
	return withCode(exitFailure, err)
}

// recordSummary is what record says it did.
type recordSummary struct {
	File     string                      `json:"file"`
	Start    time.Time                   `json:"start"`
	Duration string                      `json:"duration"`
	Readings map[string]int              `json:"readings"`
	Late     int                         `json:"late_readings,omitempty"`
	Counted  map[string]map[string]int64 `json:"daemon_counted"`
}

func runRecord(cmd *cobra.Command, opts *recordOptions, file string) error {
	// A plate's stop-by rate needs its shelf: the shelf's readings come too.
	req := agent.StreamRequest{What: []string{agent.StreamReadings, agent.StreamEvents}, Sensors: opts.sensors}
	st, sock, err := openStream(cmd.ErrOrStderr(), opts.socket, opts.configPath, req, opts.timeout)
	if err != nil {
		return err
	}
	defer st.Close()
	h := st.Header()
	if shelves := missingShelves(h.Sensors, opts.sensors); len(shelves) > 0 {
		st.Close()
		req.Sensors = append(append([]string(nil), opts.sensors...), shelves...)
		if st, sock, err = openStream(nil, opts.socket, opts.configPath, req, opts.timeout); err != nil {
			return err
		}
		defer st.Close()
		h = st.Header()
	}
	sel := selected(h.Sensors, req.Sensors)
	var th trace.Header
	index := map[string]int{} // daemon sensor id -> trace index
	for _, s := range h.Sensors {
		if !sel[s.ID] {
			continue
		}
		sp, err := s.Spec()
		if err != nil {
			return withCode(exitFailure, fmt.Errorf("sensor %s from the daemon: %w", s.ID, err))
		}
		index[s.ID] = len(th.Sensors)
		th.Sensors = append(th.Sensors, sp)
	}
	t0 := h.TMs
	th.Start = h.Start.Add(time.Duration(t0) * time.Millisecond)

	var out io.Writer = cmd.OutOrStdout()
	var f *os.File
	if file != "-" {
		if f, err = os.Create(file); err != nil {
			return withCode(exitFailure, err)
		}
		defer f.Close()
		out = f
	}
	w, err := trace.NewWriter(out, th)
	if err != nil {
		return withCode(exitFailure, err)
	}
	info := cmd.ErrOrStderr()
	fmt.Fprintf(info, "recording %d sensors for %s from %s to %s\n", len(th.Sensors), opts.duration, sock, displayName(file))

	sum := recordSummary{File: file, Start: th.Start.UTC(), Readings: map[string]int{}, Counted: map[string]map[string]int64{}}
	for _, s := range th.Sensors {
		sum.Readings[s.ID] = 0
		sum.Counted[s.ID] = map[string]int64{}
	}
	end := t0 + opts.duration.Milliseconds()
	lines := make(chan agent.StreamLine, 1024)
	errc := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			var l agent.StreamLine
			if err := st.Next(&l); err != nil {
				errc <- err
				close(lines)
				return
			}
			select {
			case lines <- l:
			case <-stop:
				return
			}
		}
	}()
	ctx := cmd.Context()
	spanDone := time.NewTimer(opts.duration)
	defer spanDone.Stop()
	var graceDone <-chan time.Time
	ro := reorder{w: w}
	interrupted := false
loop:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if err := <-errc; !errors.Is(err, io.EOF) {
					return withCode(exitFailure, fmt.Errorf("stream from %s: %w", sock, err))
				}
				fmt.Fprintln(info, "the daemon stopped; the trace ends here")
				break loop
			}
			if l.TMs < t0 || l.TMs >= end {
				continue
			}
			i, ok := index[l.Sensor]
			if !ok {
				continue
			}
			switch l.Type {
			case "reading":
				r := sensor.Reading{TMs: l.TMs - t0, Sensor: i, Channel: th.Sensors[i].Kind.Channel(l.Channel), Value: l.Value}
				if l.Token != "" {
					if r.Token, err = hex.DecodeString(l.Token); err != nil {
						return withCode(exitFailure, fmt.Errorf("stream: sensor %s: token is not hex", l.Sensor))
					}
				}
				if r.Channel < 0 {
					return withCode(exitFailure, fmt.Errorf("stream: sensor %s has no channel %q", l.Sensor, l.Channel))
				}
				if err := ro.add(r); err != nil {
					return withCode(exitFailure, err)
				}
				sum.Readings[l.Sensor]++
			case "event":
				sum.Counted[l.Sensor][l.Event]++
			}
		case <-spanDone.C:
			graceDone = time.After(recordGrace)
		case <-graceDone:
			break loop
		case <-ctx.Done():
			// Ctrl-C: keep what was recorded, as a valid trace.
			interrupted = true
			break loop
		}
	}
	if err := ro.flush(); err != nil {
		return withCode(exitFailure, err)
	}
	endT := opts.duration.Milliseconds() - 1
	if interrupted {
		endT = ro.written
	}
	levelKind := func(i int) bool {
		k := th.Sensors[i].Kind
		return k == sensor.KindBeamPair || k == sensor.KindPulse || k == sensor.KindPIR || k == sensor.KindNFCPlate
	}
	if err := ro.endMarks(endT, levelKind); err != nil {
		return withCode(exitFailure, err)
	}
	if err := w.Flush(); err != nil {
		return withCode(exitFailure, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return withCode(exitFailure, err)
		}
	}
	sum.Late = ro.late
	sum.Duration = opts.duration.String()
	if interrupted {
		sum.Duration = "interrupted"
	}
	return printRecordSummary(cmd, opts.output, file, sum)
}

func displayName(file string) string {
	if file == "-" {
		return "standard output"
	}
	return file
}

// missingShelves lists the shelves of selected plates that are not
// selected themselves.
func missingShelves(all []agent.StreamSensor, want []string) []string {
	if len(want) == 0 {
		return nil
	}
	sel := selected(all, want)
	var out []string
	for _, s := range all {
		if sel[s.ID] && s.Shelf != "" && !sel[s.Shelf] {
			out = append(out, s.Shelf)
			sel[s.Shelf] = true
		}
	}
	return out
}

func selected(all []agent.StreamSensor, want []string) map[string]bool {
	sel := map[string]bool{}
	for _, s := range all {
		sel[s.ID] = len(want) == 0
	}
	for _, id := range want {
		sel[id] = true
	}
	return sel
}

func printRecordSummary(cmd *cobra.Command, output, file string, sum recordSummary) error {
	w := cmd.ErrOrStderr()
	if output == "json" {
		if file != "-" {
			w = cmd.OutOrStdout()
		}
		return json.NewEncoder(w).Encode(sum)
	}
	ids := make([]string, 0, len(sum.Readings))
	for id := range sum.Readings {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "recorded %s from %s to %s\n", sum.Duration, sum.Start.Format(time.RFC3339), displayName(file))
	for _, id := range ids {
		fmt.Fprintf(&b, "  %-16s %7d readings  daemon counted: %s\n", id, sum.Readings[id], fmtCounts(sum.Counted[id]))
	}
	if sum.Late > 0 {
		fmt.Fprintf(&b, "  %d readings arrived too late to be in order and were dated at the previous one\n", sum.Late)
	}
	if file != "-" {
		fmt.Fprintf(&b, "replay it: edge-agent replay --trace %s\n", file)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// reorder puts readings back in time order before they are written: the
// daemon's sources run concurrently, so their readings can cross (a pulse
// is emitted at its end with its start's time). A reading is written once
// one lateWindow newer has arrived; one older than what is already written
// is dated at the last written time (as the pipeline itself does).
type reorder struct {
	w               *trace.Writer
	h               readingHeap
	seq             uint64
	newest, written int64
	late            int
	levels          map[[2]int]int64 // (sensor, channel) -> last level, for end marks
}

const lateWindowMs = 1500

func (o *reorder) add(r sensor.Reading) error {
	if r.TMs < o.written {
		r.TMs = o.written
		o.late++
	}
	o.seq++
	heap.Push(&o.h, seqReading{r, o.seq})
	o.newest = max(o.newest, r.TMs)
	for o.h.Len() > 0 && o.h[0].r.TMs <= o.newest-lateWindowMs {
		if err := o.pop(); err != nil {
			return err
		}
	}
	return nil
}

func (o *reorder) pop() error {
	x := heap.Pop(&o.h).(seqReading)
	o.written = x.r.TMs
	if x.r.Token == nil {
		if o.levels == nil {
			o.levels = map[[2]int]int64{}
		}
		o.levels[[2]int{x.r.Sensor, x.r.Channel}] = x.r.Value
	}
	return o.w.Write(x.r)
}

// endMarks repeats, at the span's end, the level of every on/off line
// that changed during it (beams, pulses, PIR, plate fields report only
// changes). A repeated level is no new change, but it tells replay that
// time reached the end: a crossing completed just before the end is then
// confirmed there, as the daemon confirmed it, instead of waiting for a
// change the file does not hold.
func (o *reorder) endMarks(t int64, levelKind func(sensor int) bool) error {
	t = max(t, o.written)
	keys := make([][2]int, 0, len(o.levels))
	for k := range o.levels {
		if levelKind(k[0]) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		if err := o.w.Write(sensor.Reading{TMs: t, Sensor: k[0], Channel: k[1], Value: o.levels[k]}); err != nil {
			return err
		}
	}
	return nil
}

func (o *reorder) flush() error {
	for o.h.Len() > 0 {
		if err := o.pop(); err != nil {
			return err
		}
	}
	return nil
}

// seqReading keeps arrival order among readings of the same t_ms.
type seqReading struct {
	r   sensor.Reading
	seq uint64
}

type readingHeap []seqReading

func (h readingHeap) Len() int { return len(h) }
func (h readingHeap) Less(i, j int) bool {
	if h[i].r.TMs != h[j].r.TMs {
		return h[i].r.TMs < h[j].r.TMs
	}
	return h[i].seq < h[j].seq
}
func (h readingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *readingHeap) Push(x any)   { *h = append(*h, x.(seqReading)) }
func (h *readingHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
