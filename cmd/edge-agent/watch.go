package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/omo-edge/edge-agent/internal/agent"
)

type watchOptions struct {
	socket     string
	configPath string
	output     string
	once       bool
	every      time.Duration
	timeout    time.Duration
}

func newWatchCmd() *cobra.Command {
	opts := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Live view of every sensor: readings against thresholds, counts, rates, health",
		Long: `Shows the running daemon live: for each distance sensor a bar of its
latest reading against its idle baseline and occupied threshold, for on/off
sensors their current state, the open window's counts and the counts since
watch started, the entry rate, each sensor's health, the outbox and the
broker. On a terminal the view is redrawn about 5 times a second; q or
Ctrl-C quits. Otherwise (a pipe, a log) it prints one plain line a second.

--once prints one frame and exits (for scripts); --output json prints the
same figures as JSON.

When no daemon answers on the config's status_socket, watch reads the
config's sensors itself (real drivers on their buses, the emulators for
simulate: sensors) through the daemon's own detection, and says so on
standard error ("daemon not running: reading the sensors directly"); the
broker line then says nothing is published. With --socket, only that
daemon is asked.

Exit codes: 4 when --socket was given and no daemon answers there (or the
daemon stops), 3 when no daemon runs and the config cannot be read, 1 when
a sensor's bus cannot be opened (the message names the sensor and the bus).`,
		Example: `  edge-agent watch
  edge-agent watch --socket /tmp/edge-agent-demo/status.sock
  edge-agent watch --once --output json | jq .sensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			return runWatch(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.socket, "socket", "", "ask only the daemon on this status socket (default: the config's status_socket, else the sensors directly)")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file: its status socket, and its sensors when no daemon runs")
	cmd.Flags().BoolVar(&opts.once, "once", false, "print one frame and exit")
	cmd.Flags().DurationVar(&opts.every, "every", 0, "refresh period (default 200ms on a terminal, 1s otherwise)")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 3*time.Second, "how long to wait for the daemon to answer")
	outputFlag(cmd, &opts.output)
	return cmd
}

// watchModel is everything a frame shows; render is a pure function of it.
type watchModel struct {
	Store     string                      `json:"store"`
	Agent     string                      `json:"agent"`
	Watching  time.Duration               `json:"watching_ns"`
	Sensors   []watchSensor               `json:"sensors"`
	EntryRate *float64                    `json:"entry_rate"` // since watch started
	Occupancy int64                       `json:"occupancy"`
	Outbox    agent.OutboxStatus          `json:"outbox"`
	Broker    agent.BrokerStatus          `json:"broker"`
	Dropped   uint64                      `json:"stream_dropped"`
	totals    map[string]map[string]int64 // by sensor, by event
}

type watchSensor struct {
	agent.StreamSensor
	Latest     map[string]int64 `json:"latest"` // channel -> last value
	LastToken  string           `json:"last_token,omitempty"`
	BaselineMM []int            `json:"baseline_mm,omitempty"`
	State      string           `json:"state"`
	Error      string           `json:"error,omitempty"`
	Invalid    float64          `json:"invalid_share"`
	OpenWindow map[string]int64 `json:"open_window"`
	SinceWatch map[string]int64 `json:"since_watch"`
}

func newWatchModel(h agent.StreamLine) *watchModel {
	m := &watchModel{totals: map[string]map[string]int64{}}
	for _, s := range h.Sensors {
		m.Sensors = append(m.Sensors, watchSensor{StreamSensor: s, Latest: map[string]int64{}, SinceWatch: map[string]int64{}, State: "?"})
	}
	return m
}

// apply folds one stream line into the model.
func (m *watchModel) apply(l *agent.StreamLine) {
	i := m.index(l.Sensor)
	switch l.Type {
	case "reading":
		if i >= 0 {
			if l.Token != "" {
				m.Sensors[i].LastToken = l.Token
			} else {
				m.Sensors[i].Latest[l.Channel] = l.Value
			}
		}
	case "event":
		if i >= 0 {
			m.Sensors[i].SinceWatch[countField(l.Event)]++
		}
	case "status":
		r := l.Status
		if r == nil {
			return
		}
		m.Store, m.Agent, m.Occupancy, m.Outbox, m.Broker, m.Dropped = r.Store, r.Agent, r.Window.Occupancy, r.Outbox, r.Broker, l.Dropped
		for _, s := range r.Sensors {
			if j := m.index(s.ID); j >= 0 {
				m.Sensors[j].State, m.Sensors[j].Error, m.Sensors[j].OpenWindow = s.State, s.Error, s.OpenCounts
			}
		}
		for _, d := range l.Detectors {
			if j := m.index(d.Sensor); j >= 0 {
				m.Sensors[j].BaselineMM, m.Sensors[j].Invalid = d.BaselineMM, d.InvalidShare
			}
		}
	}
	if l.Type == "event" {
		var in, pass, walkIns int64
		countsEntrants := true
		for _, s := range m.Sensors {
			in += s.SinceWatch["entries"]
			if s.Role == "passerby" {
				pass += s.SinceWatch["passersby"]
				if s.CountsEntrants != nil && !*s.CountsEntrants {
					countsEntrants = false
				}
			}
		}
		walkIns = pass
		if !countsEntrants {
			walkIns = pass + in
		}
		m.EntryRate = nil
		if walkIns > 0 {
			r := float64(in) / float64(walkIns)
			m.EntryRate = &r
		}
	}
}

func (m *watchModel) index(id string) int {
	for i := range m.Sensors {
		if m.Sensors[i].ID == id {
			return i
		}
	}
	return -1
}

// countField names an event's counter as the aggregates do.
func countField(ev string) string {
	switch ev {
	case "entry":
		return "entries"
	case "exit":
		return "exits"
	case "passerby":
		return "passersby"
	case "stop_by":
		return "stop_bys"
	case "tap":
		return "taps"
	case "checkin":
		return "checkins"
	}
	return ev
}

const barWidth = 24

// renderWatch draws one frame.
func renderWatch(m *watchModel) string {
	var b strings.Builder
	broker := "connected"
	if !m.Broker.Connected {
		broker = "DISCONNECTED"
		if m.Broker.LastError != "" {
			broker += " (" + m.Broker.LastError + ")"
		}
	}
	fmt.Fprintf(&b, "edge-agent watch  store %s  agent %s  watching %s   q quits\n", m.Store, m.Agent, m.Watching.Truncate(time.Second))
	fmt.Fprintf(&b, "broker %s %s   outbox %d unsent, dropped %d", m.Broker.URL, broker, m.Outbox.Depth, m.Outbox.Dropped)
	if m.Dropped > 0 {
		fmt.Fprintf(&b, "   (view lagging: %d stream items dropped)", m.Dropped)
	}
	b.WriteString("\n\n")
	idw := len("SENSOR")
	for _, s := range m.Sensors {
		idw = max(idw, len(s.ID))
	}
	row := fmt.Sprintf("%%-%ds %%-9s %%-6s %%-46s %%-22s %%s\n", idw)
	more := fmt.Sprintf("%%-%ds %%-9s %%-6s %%s\n", idw)
	fmt.Fprintf(&b, row, "SENSOR", "ROLE", "STATE", "LIVE", "OPEN WINDOW", "SINCE WATCH")
	for _, s := range m.Sensors {
		for k, l := range liveOf(s) {
			if k == 0 {
				fmt.Fprintf(&b, row, s.ID, s.Role, s.State, l, fmtCounts(s.OpenWindow), fmtCounts(s.SinceWatch))
			} else {
				fmt.Fprintf(&b, more, "", "", "", l)
			}
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "%*s error: %s\n", idw, "", s.Error)
		}
	}
	fmt.Fprintf(&b, "\nentry rate since watch %s   occupancy %d\n", rate(ptrAny(m.EntryRate)), m.Occupancy)
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func ptrAny(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// liveOf is a sensor's live column: one line per zone of a distance
// sensor, one line of levels for on/off sensors.
func liveOf(s watchSensor) []string {
	switch s.Kind {
	case "tof-2zone", "tof-presence":
		var out []string
		for z, ch := range s.Channels {
			base := 0
			if z < len(s.BaselineMM) {
				base = s.BaselineMM[z]
			}
			v, ok := s.Latest[ch]
			out = append(out, fmt.Sprintf("%-2s %s", ch, distanceBar(v, ok, base, int(s.ThresholdMM))))
		}
		return out
	case "nfc-reader":
		if s.LastToken == "" {
			return []string{"no card yet"}
		}
		return []string{"last token " + s.LastToken[:min(8, len(s.LastToken))] + "…"}
	}
	var parts []string
	for _, ch := range s.Channels {
		v, ok := s.Latest[ch]
		mark := "·"
		switch {
		case !ok:
			mark = "?"
		case v != 0:
			mark = "■"
		}
		parts = append(parts, ch+" "+mark)
	}
	return []string{strings.Join(parts, "  ")}
}

// distanceBar draws a distance against the baseline: '#' up to the
// reading, '|' where the occupied threshold lies (baseline - threshold).
func distanceBar(v int64, ok bool, base, thr int) string {
	if !ok {
		return fmt.Sprintf("%6s [%s]", "-", strings.Repeat(" ", barWidth))
	}
	if v < 0 {
		return fmt.Sprintf("%6s [%s]", "invalid", strings.Repeat("?", barWidth))
	}
	full := base
	if full <= 0 {
		full = 4000
	}
	cells := make([]byte, barWidth)
	n := int(v) * barWidth / full
	for i := range cells {
		cells[i] = '.'
		if i < n {
			cells[i] = '#'
		}
	}
	if base > 0 && thr > 0 && base > thr {
		cells[min(barWidth-1, (base-thr)*barWidth/full)] = '|'
	}
	tail := " learning"
	if base > 0 {
		tail = fmt.Sprintf(" base %d", base)
	}
	return fmt.Sprintf("%4dmm [%s]%s", v, cells, tail)
}

// plainLine is the one-line form for pipes and logs.
func plainLine(m *watchModel, now time.Time) string {
	var parts []string
	for _, s := range m.Sensors {
		p := s.ID + " " + s.State
		if c := fmtCounts(s.SinceWatch); c != "" {
			p += " " + c
		}
		parts = append(parts, p)
	}
	broker := "connected"
	if !m.Broker.Connected {
		broker = "disconnected"
	}
	return fmt.Sprintf("%s %s | entry_rate %s | outbox %d | broker %s\n", now.Format("15:04:05"), strings.Join(parts, " | "),
		rate(ptrAny(m.EntryRate)), m.Outbox.Depth, broker)
}

func isTerminal(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	if !ok {
		return nil, false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return f, err == nil
}

func runWatch(cmd *cobra.Command, opts *watchOptions) error {
	st, _, err := openStream(cmd.ErrOrStderr(), opts.socket, opts.configPath, agent.StreamRequest{What: []string{agent.StreamReadings, agent.StreamEvents, agent.StreamStatus}}, opts.timeout)
	if err != nil {
		return err
	}
	defer st.Close()
	m := newWatchModel(st.Header())
	out := cmd.OutOrStdout()
	_, tty := isTerminal(out)
	if opts.every <= 0 {
		opts.every = time.Second
		if tty {
			opts.every = 200 * time.Millisecond
		}
	}
	lines := make(chan agent.StreamLine, 1024)
	errc := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			var l agent.StreamLine
			if err := st.Next(&l); err != nil {
				errc <- err
				return
			}
			select {
			case lines <- l:
			case <-stop:
				return
			}
		}
	}()
	quit := make(chan struct{})
	if tty && !opts.once {
		if restore := keys(quit); restore != nil {
			defer restore()
		}
		fmt.Fprint(out, "\x1b[?25l")
		defer fmt.Fprint(out, "\x1b[?25h")
	}
	began := time.Now()
	tick := time.NewTicker(opts.every)
	defer tick.Stop()
	haveStatus := false
	frame := func() error {
		m.Watching = time.Since(began)
		switch {
		case opts.output == "json":
			b, _ := json.Marshal(m)
			_, err := fmt.Fprintf(out, "%s\n", b)
			return err
		case tty && !opts.once:
			_, err := fmt.Fprint(out, "\x1b[H\x1b[2J"+strings.ReplaceAll(renderWatch(m), "\n", "\r\n"))
			return err
		case opts.once:
			_, err := io.WriteString(out, renderWatch(m))
			return err
		}
		_, err := io.WriteString(out, plainLine(m, time.Now()))
		return err
	}
	for {
		select {
		case l := <-lines:
			m.apply(&l)
			if l.Type == "status" && !haveStatus {
				haveStatus = true
				if opts.once {
					return frame()
				}
			}
		case <-tick.C:
			if haveStatus {
				if err := frame(); err != nil {
					return withCode(exitFailure, err)
				}
			}
		case err := <-errc:
			if errors.Is(err, io.EOF) {
				return withCode(exitNotRunning, fmt.Errorf("the daemon stopped (%w)", agent.ErrNotRunning))
			}
			return withCode(exitFailure, err)
		case <-quit:
			return nil
		case <-cmd.Context().Done():
			return nil
		}
	}
}

// keys puts the terminal on stdin in no-echo, no-line mode so a single q
// quits (Ctrl-C still signals), and returns how to restore it.
func keys(quit chan<- struct{}) (restore func()) {
	fd := int(os.Stdin.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if unix.IoctlSetTermios(fd, unix.TCSETS, &raw) != nil {
		return nil
	}
	go func() {
		buf := make([]byte, 1)
		for {
			n, err := os.Stdin.Read(buf)
			if err != nil {
				return
			}
			if n == 1 && (buf[0] == 'q' || buf[0] == 'Q') {
				close(quit)
				return
			}
		}
	}()
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
