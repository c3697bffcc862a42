package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// The proposal's rule, documented in the command's help and printed with
// the proposal:
//   - baseline_<zone>_mm: the median of the zone's valid idle readings;
//   - threshold_mm: 4 × the widest near spread (median − p10) of the zones,
//     rounded up to 10 mm and never below minThresholdMM, so that the idle
//     floor's noise toward the sensor stays well clear of "occupied".
const (
	minThresholdMM = 300 // the detectors' default: a head is 500+ mm below a door's floor
	spreadFactor   = 4
	minValidShare  = 0.5 // fewer valid idle readings: the sensor is covered or sees nothing
	minValid       = 10
)

type calibrateOptions struct {
	socket     string
	configPath string
	idle       time.Duration
	walk       time.Duration
	yes        bool
	output     string
	timeout    time.Duration
	isTerminal func(io.Reader) bool
}

func newCalibrateCmd() *cobra.Command {
	return newCalibrateCmdWith(&calibrateOptions{isTerminal: readerIsTerminal})
}

func newCalibrateCmdWith(opts *calibrateOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calibrate SENSOR",
		Short: "Test a sensor where it is mounted and calibrate the running daemon",
		Long: `Tests one sensor through the running daemon, which owns the buses, and
proposes the keys that fit this doorway, aisle or plate. Per kind:

tof-2zone, tof-presence (distance):
 1. idle: for --idle, with nobody in view, the readings' distribution per
    zone (min, p10, median, p90, max, invalid share);
 2. proposal: baseline_<zone>_mm = the zone's median; threshold_mm =
    4 x the widest near spread (median - p10), rounded up to 10 mm, at least
    300 mm; for a door, advice on its ROI zones (roi: in the config): both
    should see the same floor, within 10 %, with few invalid readings;
 3. walk test (on a terminal): walk in 5 times, then out 5 times (a shelf:
    stand in front for 5 s, then leave), counted live by the proposal next
    to what the daemon counts now.

beam-pair: live alignment for --idle (a ■ blocked, · clear, and for how
long; a beam blocked 3 s with nobody crossing is misaligned or has the
wrong active_low), then on a terminal the walk test (in 5 times, out 5
times; a passerby pair: past 10 times) counted live by the daemon: OK when
it counts exactly that. Proposals: debounce_ms = a quarter of the shortest
walk's block of 20 ms or more, above the longest shorter glitch, within
2..30 ms; bridge_ms = the longest clear gap inside one walk's block (arm
and torso, a bag) + 10 ms, rounded up to 5 ms, within 20..100 ms, when
that is above the current one.

pir: the stand/leave test (stand 5 s, leave; wave once and step away,
twice). The shortest high period is the module's hold time: hold_ms is
proposed when the configured one is off by more than 500 ms and 20 %.

nfc-plate: the tap test (tap 3 times with a phone, a few seconds apart):
each tap's field on/off flicker is shown; merge_ms = 1.5 x the longest
flicker gap (rounded up to 100 ms) when that gap reaches the current one.
nfc-reader: present a card; shows the pseudonymized token's first 8 hex
characters (never a UID) and the daemon's check-ins. Nothing to apply.

Then apply? [y/N] (or --yes): the daemon validates the keys (per kind only
those above), saves them in state_dir/calibration.json and counts with them
at once; they survive a restart and take precedence over the config's
params. Without a terminal and without --yes, the result is printed and
nothing applied; the level sensors' tests then only watch for --idle.
A test that is NOT OK applies nothing. 'edge-agent status' shows each
sensor's calibration.

When no daemon answers on the config's status_socket, calibrate reads the
sensor itself (its real driver on its bus, or its emulator for simulate:)
and says so ("daemon not running: reading the sensors directly"); applying
then saves the calibration in state_dir/calibration.json, which the daemon
loads at its next start. With --socket, only that daemon is asked.

Exit codes: 0 OK, 4 when --socket was given and no daemon answers there, 1
when the sensor's bus cannot be opened (named in the message), 2 for an
unknown sensor id or bad flags, 3 for a sensor kind with no test (pulse), 1 when the test is
NOT OK, the idle readings cannot give a proposal or the daemon refuses it.`,
		Example: `  edge-agent calibrate door
  edge-agent calibrate door --idle 30s
  edge-agent calibrate shelf-1 --yes --output json
  edge-agent calibrate street --idle 10s --walk 2m   # beams: alignment, walk test
  edge-agent calibrate plate-1                       # tap test
  edge-agent calibrate door --socket /tmp/edge-agent-demo/status.sock --idle 5s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			if opts.idle <= 0 {
				return withCode(exitUsage, errors.New("--idle: give how long to measure the idle floor, e.g. --idle 10s"))
			}
			return runCalibrate(cmd, opts, args[0])
		},
	}
	cmd.Flags().DurationVar(&opts.idle, "idle", 10*time.Second, "how long to measure the idle floor, or watch beam alignment (nobody in view)")
	cmd.Flags().DurationVar(&opts.walk, "walk", time.Minute, "longest walk, stand/leave, tap or card test (on a terminal; 0 skips it)")
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "apply the proposal without asking")
	cmd.Flags().StringVar(&opts.socket, "socket", "", "ask only the daemon on this status socket (default: the config's status_socket, else the sensor directly)")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file: its status socket, and its sensors when no daemon runs")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 3*time.Second, "how long to wait for the daemon to answer")
	outputFlag(cmd, &opts.output)
	return cmd
}

// floorStats is one channel's idle distribution.
type floorStats struct {
	Channel  string  `json:"channel"`
	Readings int     `json:"readings"`
	Invalid  float64 `json:"invalid_share"`
	Min      int64   `json:"min_mm"`
	P10      int64   `json:"p10_mm"`
	Median   int64   `json:"median_mm"`
	P90      int64   `json:"p90_mm"`
	Max      int64   `json:"max_mm"`
	valid    int
}

// statsOf summarizes readings (mm; negative = no valid range).
func statsOf(channel string, readings []int64) floorStats {
	s := floorStats{Channel: channel, Readings: len(readings)}
	var v []int64
	for _, r := range readings {
		if r >= 0 {
			v = append(v, r)
		}
	}
	s.valid = len(v)
	if len(readings) > 0 {
		s.Invalid = float64(len(readings)-len(v)) / float64(len(readings))
	}
	if len(v) == 0 {
		return s
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	at := func(q float64) int64 { return v[int(q*float64(len(v)-1)+0.5)] }
	s.Min, s.P10, s.Median, s.P90, s.Max = v[0], at(0.1), at(0.5), at(0.9), v[len(v)-1]
	return s
}

// proposal is the keys calibrate suggests, in the order shown.
type proposal struct {
	Keys   [][2]string `json:"-"`
	Params map[string]string
	Spread int64 // the widest near spread (median - p10)
}

// baselineKey is the calibration key of a kind's channel.
func baselineKey(k sensor.Kind, ch string) string {
	if k == sensor.KindToFPresence {
		return "baseline_mm"
	}
	return "baseline_" + ch + "_mm"
}

// propose applies the rule to the idle distribution of each channel.
func propose(k sensor.Kind, stats []floorStats) (proposal, error) {
	p := proposal{Params: map[string]string{}}
	minBase := int64(-1)
	for _, s := range stats {
		if s.valid < minValid || 1-s.Invalid < minValidShare {
			return p, fmt.Errorf("%s: only %d of %d idle readings are valid: is the sensor covered, or aimed at nothing within range?", s.Channel, s.valid, s.Readings)
		}
		p.Spread = max(p.Spread, s.Median-s.P10)
		p.Keys = append(p.Keys, [2]string{baselineKey(k, s.Channel), strconv.FormatInt(s.Median, 10)})
		if minBase < 0 || s.Median < minBase {
			minBase = s.Median
		}
	}
	thr := max(minThresholdMM, (spreadFactor*p.Spread+9)/10*10)
	if thr+200 > minBase {
		return p, fmt.Errorf("the floor is too close or too noisy: threshold %d mm would leave less than 200 mm above a %d mm baseline", thr, minBase)
	}
	p.Keys = append(p.Keys, [2]string{"threshold_mm", strconv.FormatInt(thr, 10)})
	for _, kv := range p.Keys {
		p.Params[kv[0]] = kv[1]
	}
	return p, nil
}

// zoneAdvice judges a door sensor's two ROI zones from their idle floors.
// Both zones should see the same floor: a zone that reads clearly nearer
// sees the door frame, a wall or a shelf, and one with many invalid
// readings looks past the floor's edge or at a dark mat. The ROI is part of
// the sensor's config (roi:), not a detection key, so this is advice.
func zoneAdvice(stats []floorStats) string {
	if len(stats) != 2 || stats[0].Median <= 0 || stats[1].Median <= 0 {
		return ""
	}
	a, b := stats[0], stats[1]
	near, far := a, b
	if b.Median < a.Median {
		near, far = b, a
	}
	switch {
	case float64(far.Median-near.Median) > 0.1*float64(far.Median):
		return fmt.Sprintf("%s sees %d mm but %s %d mm: %s likely sees the door frame or a wall; move roi.%s_center toward the doorway's middle or narrow roi.width, then calibrate again",
			near.Channel, near.Median, far.Channel, far.Median, near.Channel, near.Channel)
	case a.Invalid > 0.1 || b.Invalid > 0.1:
		worst := a
		if b.Invalid > a.Invalid {
			worst = b
		}
		return fmt.Sprintf("%s has %.0f%% invalid readings: its ROI may look past the floor's edge or at a dark mat; move roi.%s_center inward or use distance_mode: long",
			worst.Channel, 100*worst.Invalid, worst.Channel)
	}
	return fmt.Sprintf("OK: both zones see the floor (%d and %d mm, within 10%%)", a.Median, b.Median)
}

// formatProposal is the text calibrate prints after the idle measurement.
func formatProposal(w io.Writer, s agent.StreamSensor, idle time.Duration, stats []floorStats, p proposal) {
	fmt.Fprintf(w, "%s (%s, %s): idle floor over %s\n", s.ID, s.Kind, s.Role, idle)
	fmt.Fprintf(w, "  %-5s %8s %8s %6s %6s %6s %6s %6s\n", "zone", "readings", "invalid", "min", "p10", "median", "p90", "max")
	for _, st := range stats {
		fmt.Fprintf(w, "  %-5s %8d %7.1f%% %6d %6d %6d %6d %6d\n", st.Channel, st.Readings, 100*st.Invalid, st.Min, st.P10, st.Median, st.P90, st.Max)
	}
	fmt.Fprintln(w, "proposal:")
	for _, kv := range p.Keys {
		why := "median of the idle readings"
		if kv[0] == "threshold_mm" {
			why = fmt.Sprintf("%d x the widest median-p10 spread (%d mm), rounded up to 10 mm, at least %d", spreadFactor, p.Spread, minThresholdMM)
		}
		fmt.Fprintf(w, "  %-15s %5s   (%s)\n", kv[0], kv[1], why)
	}
	if z := zoneAdvice(stats); z != "" && s.Kind == string(sensor.KindToF2Zone) {
		fmt.Fprintf(w, "ROI zones: %s\n", z)
	}
}

// calibrateReport is the --output json document.
type calibrateReport struct {
	Sensor      string                   `json:"sensor"`
	Kind        string                   `json:"kind"`
	Idle        string                   `json:"idle"`
	Floor       []floorStats             `json:"floor"`
	Proposal    map[string]string        `json:"proposal"`
	Zones       string                   `json:"roi_zones,omitempty"`
	Walk        map[string]int           `json:"walk_test,omitempty"`
	Applied     bool                     `json:"applied"`
	Calibration *agent.CalibrationResult `json:"calibration,omitempty"`
}

// openCalibration subscribes to the sensor's readings and events on the
// running daemon's socket, or reads the sensor directly when none runs.
func openCalibration(say io.Writer, opts *calibrateOptions, id string) (*agent.Stream, error) {
	st, _, err := openStream(say, opts.socket, opts.configPath, agent.StreamRequest{What: []string{agent.StreamReadings, agent.StreamEvents}, Sensors: []string{id}}, opts.timeout)
	return st, err
}

// calibSession is one calibrate run: the sensor, the stream's lines, where
// to print.
type calibSession struct {
	cmd   *cobra.Command
	opts  *calibrateOptions
	st    *agent.Stream // the daemon's, or the sensor read directly
	ss    agent.StreamSensor
	kind  sensor.Kind
	out   io.Writer // the result (text or JSON)
	say   io.Writer // progress and prompts: stderr when stdout is JSON
	lines <-chan agent.StreamLine
	tty   bool
	stop  <-chan struct{} // a live display's tick may end the test early
	// The daemon's t_ms of the last line and when it came (calibSession.now).
	lastMs   int64
	lastWall time.Time
}

func runCalibrate(cmd *cobra.Command, opts *calibrateOptions, id string) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	say := out // prompts and progress: stderr when stdout is JSON
	if opts.output == "json" {
		say = errw
	}
	st, err := openCalibration(say, opts, id)
	if err != nil {
		return err
	}
	defer st.Close()
	var ss agent.StreamSensor
	for _, s := range st.Header().Sensors {
		if s.ID == id {
			ss = s
		}
	}
	kind := sensor.Kind(ss.Kind)
	lines := make(chan agent.StreamLine, 256)
	go func() {
		defer close(lines)
		for {
			var l agent.StreamLine
			if st.Next(&l) != nil {
				return
			}
			lines <- l
		}
	}()
	c := &calibSession{cmd: cmd, opts: opts, st: st, ss: ss, kind: kind, out: out, say: say, lines: lines,
		tty: opts.isTerminal(cmd.InOrStdin())}
	switch kind {
	case sensor.KindToF2Zone, sensor.KindToFPresence:
		return calibrateDistance(c)
	case sensor.KindBeamPair:
		return calibrateBeam(c)
	case sensor.KindPIR:
		return calibratePIR(c)
	case sensor.KindNFCPlate:
		return calibratePlate(c)
	case sensor.KindNFCReader:
		return checkinTest(c)
	}
	return withCode(exitBadInput, fmt.Errorf("sensor %s is a %s: calibrate has no test for it (tof-2zone, tof-presence, beam-pair, pir, nfc-plate, nfc-reader); 'edge-agent watch' shows its counts live", id, ss.Kind))
}

// ask asks the technician whether to apply; without a terminal, only --yes
// applies.
func (c *calibSession) ask() bool {
	if c.opts.yes {
		return true
	}
	if !c.tty {
		return false
	}
	fmt.Fprint(c.say, "apply? [y/N] ")
	line, _ := bufio.NewReader(c.cmd.InOrStdin()).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// apply sends params to the daemon, which validates, saves and uses them.
func (c *calibSession) apply(params map[string]string) (*agent.CalibrationResult, error) {
	res, err := c.st.Calibrate(c.ss.ID, params, c.opts.timeout)
	if err != nil {
		if errors.Is(err, agent.ErrNotRunning) {
			return nil, withCode(exitNotRunning, err)
		}
		return nil, withCode(exitFailure, fmt.Errorf("the daemon refused the calibration: %w", err))
	}
	return &res, nil
}

// sayApplied is the text result's last line.
func (c *calibSession) sayApplied(res *agent.CalibrationResult, proposed bool) {
	switch {
	case res != nil:
		fmt.Fprintln(c.out, appliedLine(c.st, res))
	case !proposed:
		fmt.Fprintln(c.out, "nothing to apply: the current settings fit")
	case !c.tty && !c.opts.yes:
		fmt.Fprintln(c.out, "not applied: no terminal to ask on; rerun with --yes to apply")
	default:
		fmt.Fprintln(c.out, "not applied")
	}
}

func calibrateDistance(c *calibSession) error {
	opts, out, say, ss, kind, lines := c.opts, c.out, c.say, c.ss, c.kind, c.lines
	id := ss.ID
	cmd := c.cmd
	ctx := cmd.Context()

	// 1. The idle floor.
	fmt.Fprintf(say, "measuring the idle floor of %s for %s: keep the area under the sensor clear...\n", id, opts.idle)
	byCh := make([][]int64, len(ss.Channels))
	deadline := time.After(opts.idle)
idle:
	for {
		select {
		case <-ctx.Done():
			return withCode(exitFailure, ctx.Err())
		case <-deadline:
			break idle
		case l, ok := <-lines:
			if !ok {
				return withCode(exitFailure, errors.New("the daemon closed the stream"))
			}
			if l.Type == "reading" {
				if c := kind.Channel(l.Channel); c >= 0 {
					byCh[c] = append(byCh[c], l.Value)
				}
			}
		}
	}
	stats := make([]floorStats, len(ss.Channels))
	for c, ch := range ss.Channels {
		stats[c] = statsOf(ch, byCh[c])
	}
	p, err := propose(kind, stats)
	rep := calibrateReport{Sensor: id, Kind: ss.Kind, Idle: opts.idle.String(), Floor: stats, Proposal: p.Params}
	if ss.Kind == string(sensor.KindToF2Zone) {
		rep.Zones = zoneAdvice(stats)
	}
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("sensor %s: %w", id, err))
	}
	if opts.output == "text" {
		formatProposal(out, ss, opts.idle, stats, p)
	}

	// 2. The walk test, with a person to walk.
	stdin, tty := cmd.InOrStdin(), c.tty
	if tty && opts.walk > 0 {
		if rep.Walk, err = walkTest(ctx, say, ss, p.Params, lines, opts.walk); err != nil {
			return err
		}
	}

	// 3. Apply.
	apply := opts.yes
	if !apply && tty {
		fmt.Fprint(say, "apply? [y/N] ")
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		a := strings.ToLower(strings.TrimSpace(line))
		apply = a == "y" || a == "yes"
	}
	if apply {
		res, err := c.st.Calibrate(id, p.Params, opts.timeout)
		if err != nil {
			if errors.Is(err, agent.ErrNotRunning) {
				return withCode(exitNotRunning, err)
			}
			return withCode(exitFailure, fmt.Errorf("the daemon refused the calibration: %w", err))
		}
		rep.Applied, rep.Calibration = true, &res
	}
	if opts.output == "json" {
		return json.NewEncoder(out).Encode(rep)
	}
	switch {
	case rep.Applied:
		fmt.Fprintln(out, appliedLine(c.st, rep.Calibration))
	case !tty && !opts.yes:
		fmt.Fprintln(out, "not applied: no terminal to ask on; rerun with --yes to apply")
	default:
		fmt.Fprintln(out, "not applied")
	}
	return nil
}

func formatParams(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

// walkTest shows, live, what the proposal counts (a detector of its own
// fed the daemon's readings) next to what the daemon counts now, until the
// technician's walks are all seen or limit passes.
func walkTest(ctx context.Context, w io.Writer, ss agent.StreamSensor, params map[string]string, lines <-chan agent.StreamLine, limit time.Duration) (map[string]int, error) {
	spec, err := ss.Spec()
	if err == nil {
		for k, v := range params {
			if err = spec.Set(k, v); err != nil {
				break
			}
		}
	}
	var det detect.Detector
	if err == nil {
		det, err = detect.New(spec, 0)
	}
	if err != nil {
		return nil, withCode(exitFailure, fmt.Errorf("the proposal does not build a detector: %w", err))
	}
	kind := sensor.Kind(ss.Kind)
	want := map[string]int{"entry": 5, "exit": 5}
	fmt.Fprintln(w, "walk test: walk in 5 times, then out 5 times")
	if kind == sensor.KindToFPresence {
		want = map[string]int{"stop_by": 1}
		fmt.Fprintln(w, "walk test: stand in front of the shelf for 5 s, then leave")
	}
	got, daemon := map[string]int{}, map[string]int{}
	show := func() {
		var b strings.Builder
		for _, ev := range []string{"entry", "exit", "stop_by"} {
			if _, ok := want[ev]; ok {
				fmt.Fprintf(&b, "  %s %d/%d (daemon now: %d)", ev, got[ev], want[ev], daemon[ev])
			}
		}
		fmt.Fprintln(w, "proposal:"+b.String())
	}
	done := func() bool {
		for ev, n := range want {
			if got[ev] < n {
				return false
			}
		}
		return true
	}
	var evs []sensor.Event
	timeout := time.After(limit)
	for !done() {
		select {
		case <-ctx.Done():
			return got, withCode(exitFailure, errors.New("interrupted"))
		case <-timeout:
			fmt.Fprintf(w, "walk test ended after %s\n", limit)
			return got, nil
		case l, ok := <-lines:
			if !ok {
				return got, withCode(exitFailure, errors.New("the daemon closed the stream"))
			}
			switch l.Type {
			case "event":
				daemon[l.Event]++
				show()
			case "reading":
				if c := kind.Channel(l.Channel); c >= 0 {
					evs = det.Feed(sensor.Reading{TMs: l.TMs, Channel: c, Value: l.Value}, evs[:0])
					for _, e := range evs {
						got[e.Type.String()]++
					}
					if len(evs) > 0 {
						show()
					}
				}
			}
		}
	}
	fmt.Fprintln(w, "walk test: every walk seen")
	return got, nil
}

// appliedLine says where an applied calibration went: the running daemon,
// or, read directly, the state directory's file for the daemon's next start.
func appliedLine(st *agent.Stream, res *agent.CalibrationResult) string {
	if f := st.CalibrationFile(); f != "" {
		return fmt.Sprintf("saved in %s at %s (no daemon running: it uses it from its next start): %s", f, res.At.Format(time.RFC3339), formatParams(res.Effective))
	}
	return fmt.Sprintf("applied to the running daemon at %s and saved: %s", res.At.Format(time.RFC3339), formatParams(res.Effective))
}
