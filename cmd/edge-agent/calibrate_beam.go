package main

// calibrate for on/off line sensors: IR break-beam pairs (live alignment,
// walk test, debounce_ms) and shelf PIR modules (stand/leave test,
// hold_ms). The measurements are pure functions over the stream's reading
// times (levelLog, spans, proposeDebounce, proposeHold), the live part a
// loop over the daemon's lines.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

func sensorKind(ss agent.StreamSensor) sensor.Kind { return sensor.Kind(ss.Kind) }

// The rules, printed with their results and in docs/TECHNICIAN.md.
const (
	// stuckMs: a beam blocked this long with nobody crossing is misaligned
	// (the receiver does not see the emitter) or its active_low is wrong.
	stuckMs = 3000
	// glitchMs: nobody crosses a beam in less; shorter blocks are noise.
	glitchMs = 20
	// debounce_ms = a quarter of the shortest person's block, above the
	// longest glitch, within [minDebounceMs, maxDebounceMs].
	minDebounceMs = 2
	maxDebounceMs = 30
	minBlocks     = 4 // fewer blocks: no debounce proposal
	walkEach      = 5 // walks in, and out, of the beam walk test
)

// levelLog is one on/off line's changes as the stream delivered them
// (daemon t_ms); repeats of a level are ignored.
type levelLog struct {
	known   bool
	level   bool
	since   int64
	changes int
	spans   []int64    // completed active ("blocked", "high", "field on") spans, ms
	blocks  [][2]int64 // the same spans as (start, end)
	gaps    []int64    // completed inactive spans between two active ones, ms
	lastOff int64
	seenOff bool
}

// set records the line's level v at t.
func (l *levelLog) set(v bool, t int64) {
	if l.known && v == l.level {
		return
	}
	if l.known {
		l.changes++
		if l.level && !v {
			l.spans = append(l.spans, t-l.since)
			l.blocks = append(l.blocks, [2]int64{l.since, t})
		}
		if !l.level && v && l.seenOff {
			l.gaps = append(l.gaps, t-l.since)
		}
	}
	if !v {
		l.seenOff = l.known || l.seenOff
		l.lastOff = t
	}
	l.known, l.level, l.since = true, v, t
}

// held is how long the line has been at its level at now.
func (l *levelLog) held(now int64) int64 {
	if !l.known {
		return 0
	}
	return now - l.since
}

// beamMark draws a beam's state: ■ blocked, · clear, ? not seen yet.
func beamMark(l *levelLog) string {
	switch {
	case !l.known:
		return "?"
	case l.level:
		return "■"
	}
	return "·"
}

// beamLine is the live alignment line, e.g. "a ■ 0.4s  b · 12.3s".
func beamLine(a, b *levelLog, now int64) string {
	part := func(name string, l *levelLog) string {
		if !l.known {
			return name + " ? (no change seen yet)"
		}
		state := "clear"
		if l.level {
			state = "blocked"
		}
		return fmt.Sprintf("%s %s %s %.1fs", name, beamMark(l), state, float64(l.held(now))/1000)
	}
	return part("a", a) + "   " + part("b", b)
}

// stuckProblem names a beam blocked for stuckMs or more at now.
func stuckProblem(name string, l *levelLog, now int64) string {
	if l.known && l.level && l.held(now) >= stuckMs {
		return fmt.Sprintf("beam %s blocked for %.1fs with nobody crossing: misaligned (the receiver does not see the emitter) or wrong active_low", name, float64(l.held(now))/1000)
	}
	return ""
}

// debounceProposal is the debounce rule's result.
type debounceProposal struct {
	Blocks        int   `json:"blocks"`
	Glitches      int   `json:"glitches"`
	ShortestMs    int64 `json:"shortest_block_ms"`
	LongestMs     int64 `json:"longest_block_ms"`
	LongestGlitch int64 `json:"longest_glitch_ms"`
	DebounceMs    int64 `json:"debounce_ms"` // 0: none proposed
	why           string
}

// proposeDebounce applies the rule to the blocks (ms) both beams saw:
// blocks under glitchMs are glitches; debounce_ms = the shortest person's
// block / 4, at least the longest glitch + 1, within [2, 30] ms; proposed
// when it differs from current and at least minBlocks persons' blocks
// were seen.
func proposeDebounce(blocks []int64, current int64) debounceProposal {
	var p debounceProposal
	for _, d := range blocks {
		if d < glitchMs {
			p.Glitches++
			p.LongestGlitch = max(p.LongestGlitch, d)
			continue
		}
		if p.Blocks == 0 || d < p.ShortestMs {
			p.ShortestMs = d
		}
		p.LongestMs = max(p.LongestMs, d)
		p.Blocks++
	}
	if p.Blocks < minBlocks {
		p.why = fmt.Sprintf("%d blocks of %d ms or more seen, %d needed", p.Blocks, glitchMs, minBlocks)
		return p
	}
	d := max(p.ShortestMs/4, p.LongestGlitch+1)
	d = min(max(d, minDebounceMs), maxDebounceMs)
	p.why = fmt.Sprintf("a quarter of the shortest block (%d ms), above the longest glitch (%d ms), within %d..%d ms", p.ShortestMs, p.LongestGlitch, minDebounceMs, maxDebounceMs)
	if d != current {
		p.DebounceMs = d
	}
	return p
}

// levelReport is the --output json document of the beam, PIR, plate and
// reader tests.
type levelReport struct {
	Sensor      string                   `json:"sensor"`
	Kind        string                   `json:"kind"`
	Test        string                   `json:"test"`
	OK          bool                     `json:"ok"`
	Problems    []string                 `json:"problems,omitempty"`
	Counts      map[string]int           `json:"counts"` // the daemon's events during the test
	Measured    any                      `json:"measured,omitempty"`
	Proposal    map[string]string        `json:"proposal,omitempty"`
	Applied     bool                     `json:"applied"`
	Calibration *agent.CalibrationResult `json:"calibration,omitempty"`
}

// beamMeasured is the beam test's measurements (--output json "measured").
type beamMeasured struct {
	debounceProposal
	Bridge bridgeProposal `json:"bridge"`
}

// formatBeamReport is the beam test's text result.
func formatBeamReport(w io.Writer, r levelReport, p debounceProposal, current int64, bp bridgeProposal, currentBridge int64) {
	fmt.Fprintf(w, "%s (beam-pair): %s\n", r.Sensor, okText(r.OK))
	for _, pr := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", pr)
	}
	fmt.Fprintf(w, "  counted by the daemon: %s\n", formatCounts(r.Counts))
	fmt.Fprintf(w, "  blocks: %d (shortest %d ms, longest %d ms), glitches under %d ms: %d (longest %d ms)\n",
		p.Blocks, p.ShortestMs, p.LongestMs, glitchMs, p.Glitches, p.LongestGlitch)
	fmt.Fprintf(w, "  gaps inside a block: %d (longest %d ms), hands ahead of a body: %d\n", bp.InteriorGaps, bp.LongestGapMs, bp.Hands)
	if bp.TooLong {
		fmt.Fprintf(w, "  note: a gap of %d ms inside one block needs more than %d ms of bridging, which would merge people in single file: check the beams' height (hip height) and alignment\n", bp.LongestGapMs, maxBridgeMs)
	}
	var props, fits []string
	if p.DebounceMs != 0 {
		props = append(props, fmt.Sprintf("  debounce_ms %d   (now %d; %s)", p.DebounceMs, current, p.why))
	} else {
		fits = append(fits, fmt.Sprintf("no proposal: debounce_ms %d fits (%s)", current, p.why))
	}
	if bp.BridgeMs != 0 {
		props = append(props, fmt.Sprintf("  bridge_ms %d   (now %d; %s)", bp.BridgeMs, currentBridge, bp.why))
	} else {
		fits = append(fits, fmt.Sprintf("no proposal: bridge_ms %d fits (%s)", currentBridge, bp.why))
	}
	if len(props) > 0 {
		fmt.Fprintln(w, "proposal:")
	}
	for _, l := range append(props, fits...) {
		fmt.Fprintln(w, l)
	}
}

func okText(ok bool) string {
	if ok {
		return "OK"
	}
	return "NOT OK"
}

// formatCounts prints counts in a fixed order.
func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "nothing"
	}
	var parts []string
	for _, ev := range []string{"entry", "exit", "passerby", "stop_by", "tap", "checkin"} {
		if n, ok := m[ev]; ok {
			parts = append(parts, ev+"="+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, " ")
}

// paramOr is the sensor's key in use, or the kind's default.
func paramOr(ss agent.StreamSensor, key string) int64 {
	if v, err := strconv.ParseInt(ss.Params[key], 10, 64); err == nil {
		return v
	}
	for _, p := range detect.Params(sensorKind(ss)) {
		if p.Name == key {
			return p.Default
		}
	}
	return 0
}

// loop feeds the stream's lines to f until f says done, limit passes or
// the command is interrupted; tick runs every second for live displays.
// It reports the daemon time of the last line and whether f finished.
func (c *calibSession) loop(limit time.Duration, f func(l *agent.StreamLine) bool, tick func(nowMs int64)) (bool, error) {
	ctx := c.cmd.Context()
	timeout := time.After(limit)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, withCode(exitFailure, errors.New("interrupted"))
		case <-timeout:
			return false, nil
		case <-c.stop:
			return true, nil
		case <-t.C:
			if tick != nil && c.lastMs > 0 {
				tick(c.now())
			}
		case l, ok := <-c.lines:
			if !ok {
				return false, withCode(exitFailure, errors.New("the daemon closed the stream"))
			}
			if l.TMs > 0 {
				c.lastMs, c.lastWall = l.TMs, time.Now()
			}
			if f(&l) {
				return true, nil
			}
		}
	}
}

// now estimates the daemon's t_ms: the last line's, plus the time since.
func (c *calibSession) now() int64 {
	if c.lastMs == 0 {
		return 0
	}
	return c.lastMs + time.Since(c.lastWall).Milliseconds()
}

// finish prints or encodes the report, asks and applies, and turns a NOT
// OK test into exit 1.
func (c *calibSession) finish(r levelReport, text func(io.Writer)) error {
	if c.opts.output == "text" {
		text(c.out)
	}
	if r.OK && len(r.Proposal) > 0 && c.ask() {
		res, err := c.apply(r.Proposal)
		if err != nil {
			return err
		}
		r.Applied, r.Calibration = true, res
	}
	if c.opts.output == "json" {
		if err := json.NewEncoder(c.out).Encode(r); err != nil {
			return err
		}
	} else if r.OK {
		c.sayApplied(r.Calibration, len(r.Proposal) > 0)
	}
	if !r.OK {
		return withCode(exitFailure, fmt.Errorf("sensor %s: %s test NOT OK: %s", r.Sensor, r.Test, strings.Join(r.Problems, "; ")))
	}
	return nil
}

// calibrateBeam: live alignment for --idle, then (on a terminal) the walk
// test, then the debounce proposal.
func calibrateBeam(c *calibSession) error {
	var lv [2]levelLog
	counts := map[string]int{}
	stuck := [2]bool{}
	var problems []string
	feed := func(l *agent.StreamLine) {
		switch l.Type {
		case "reading":
			if ch := c.kind.Channel(l.Channel); ch == 0 || ch == 1 {
				lv[ch].set(l.Value != 0, l.TMs)
				fmt.Fprintf(c.say, "  %s\n", beamLine(&lv[0], &lv[1], l.TMs))
			}
		case "event":
			counts[l.Event]++
		}
	}
	checkStuck := func(now int64) {
		for i, name := range []string{"a", "b"} {
			if p := stuckProblem(name, &lv[i], now); p != "" && !stuck[i] {
				stuck[i] = true
				fmt.Fprintf(c.say, "  ! %s\n", p)
			}
		}
	}
	fmt.Fprintf(c.say, "alignment of %s for %s: nobody in the doorway; block each beam by hand once to see it react (■ blocked, · clear)\n", c.ss.ID, c.opts.idle)
	if _, err := c.loop(c.opts.idle, func(l *agent.StreamLine) bool {
		feed(l)
		checkStuck(l.TMs)
		return false
	}, checkStuck); err != nil {
		return err
	}
	for i, name := range []string{"a", "b"} {
		if p := stuckProblem(name, &lv[i], c.now()); p != "" {
			problems = append(problems, p)
		}
	}

	test := "alignment"
	if c.tty && c.opts.walk > 0 && len(problems) == 0 {
		test = "walk"
		want := map[string]int{"entry": walkEach, "exit": walkEach}
		instr := fmt.Sprintf("walk in %d times, then out %d times", walkEach, walkEach)
		if c.ss.Role == "passerby" {
			want = map[string]int{"passerby": 2 * walkEach}
			instr = fmt.Sprintf("walk past %d times", 2*walkEach)
		}
		clear(counts)
		fmt.Fprintf(c.say, "walk test: %s\n", instr)
		done, err := c.loop(c.opts.walk, func(l *agent.StreamLine) bool {
			if l.Type == "event" {
				counts[l.Event]++
				fmt.Fprintf(c.say, "  counted: %s\n", formatWant(counts, want))
				for ev, n := range want {
					if counts[ev] < n {
						return false
					}
				}
				return true
			}
			if ch := c.kind.Channel(l.Channel); l.Type == "reading" && (ch == 0 || ch == 1) {
				lv[ch].set(l.Value != 0, l.TMs)
			}
			return false
		}, nil)
		if err != nil {
			return err
		}
		if !done {
			fmt.Fprintf(c.say, "walk test ended after %s\n", c.opts.walk)
		}
		for ev, n := range want {
			if counts[ev] != n {
				problems = append(problems, fmt.Sprintf("the daemon counted %d %s for %d walks", counts[ev], ev, n))
			}
		}
		for i, name := range []string{"a", "b"} {
			if lv[i].changes == 0 {
				problems = append(problems, fmt.Sprintf("beam %s never changed: check its wiring and pin", name))
			}
		}
		sortStrings(problems)
	}
	current, currentBridge, minBlock := paramOr(c.ss, "debounce_ms"), paramOr(c.ss, "bridge_ms"), paramOr(c.ss, "min_block_ms")
	beams := [2][][2]int64{lv[0].blocks, lv[1].blocks}
	p := proposeDebounce(bodyBlocks(beams, minBlock), current)
	bp := proposeBridge(beams, currentBridge, minBlock)
	r := levelReport{Sensor: c.ss.ID, Kind: c.ss.Kind, Test: test, OK: len(problems) == 0, Problems: problems, Counts: counts,
		Measured: beamMeasured{p, bp}}
	if p.DebounceMs != 0 || bp.BridgeMs != 0 {
		r.Proposal = map[string]string{}
	}
	if p.DebounceMs != 0 {
		r.Proposal["debounce_ms"] = strconv.FormatInt(p.DebounceMs, 10)
	}
	if bp.BridgeMs != 0 {
		r.Proposal["bridge_ms"] = strconv.FormatInt(bp.BridgeMs, 10)
	}
	return c.finish(r, func(w io.Writer) { formatBeamReport(w, r, p, current, bp, currentBridge) })
}

// formatWant is "entry 2/5 exit 0/5".
func formatWant(got, want map[string]int) string {
	var parts []string
	for _, ev := range []string{"entry", "exit", "passerby", "stop_by", "tap", "checkin"} {
		if n, ok := want[ev]; ok {
			parts = append(parts, fmt.Sprintf("%s %d/%d", ev, got[ev], n))
		}
	}
	return strings.Join(parts, "  ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// holdProposal is the PIR rule's result.
type holdProposal struct {
	Highs      int   `json:"high_periods"`
	ShortestMs int64 `json:"shortest_high_ms"`
	HoldMs     int64 `json:"hold_ms"` // 0: none proposed
	why        string
}

// proposeHold: in repeatable-trigger mode the output stays high hold after
// the last motion, so the shortest high period (one brief motion) is the
// module's hold. hold_ms = that, rounded down to 100 ms, proposed when it
// differs from current by more than 500 ms and 20 %.
func proposeHold(highs []int64, current int64) holdProposal {
	p := holdProposal{Highs: len(highs)}
	for i, d := range highs {
		if i == 0 || d < p.ShortestMs {
			p.ShortestMs = d
		}
	}
	if len(highs) == 0 {
		p.why = "no motion period seen"
		return p
	}
	m := p.ShortestMs / 100 * 100
	diff := max(m-current, current-m)
	p.why = fmt.Sprintf("the shortest high period (%d ms) is the module's hold; proposed when %d ms is off by more than 500 ms and at least 20%%", p.ShortestMs, current)
	if diff > 500 && diff*5 >= current {
		p.HoldMs = m
	}
	return p
}

func formatPIRReport(w io.Writer, r levelReport, p holdProposal, current int64) {
	fmt.Fprintf(w, "%s (pir): %s\n", r.Sensor, okText(r.OK))
	for _, pr := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", pr)
	}
	fmt.Fprintf(w, "  counted by the daemon: %s\n", formatCounts(r.Counts))
	fmt.Fprintf(w, "  motion periods: %d, shortest %d ms\n", p.Highs, p.ShortestMs)
	if p.HoldMs != 0 {
		fmt.Fprintf(w, "proposal:\n  hold_ms %d   (now %d; %s)\n", p.HoldMs, current, p.why)
		return
	}
	fmt.Fprintf(w, "no proposal: hold_ms %d fits (%s)\n", current, p.why)
}

// calibratePIR: the stand/leave test. Without a terminal, the line is
// watched for --idle.
func calibratePIR(c *calibSession) error {
	var lv levelLog
	counts := map[string]int{}
	limit := c.opts.idle
	if c.tty && c.opts.walk > 0 {
		limit = c.opts.walk
		fmt.Fprintf(c.say, "stand/leave test on %s: stand in front of the shelf for 5 s, then leave; then twice: wave a hand once, briefly, and step out of view for 10 s\n", c.ss.ID)
	} else {
		fmt.Fprintf(c.say, "watching %s for %s\n", c.ss.ID, limit)
	}
	_, err := c.loop(limit, func(l *agent.StreamLine) bool {
		switch l.Type {
		case "reading":
			if c.kind.Channel(l.Channel) == 0 {
				n := len(lv.spans)
				lv.set(l.Value != 0, l.TMs)
				switch {
				case l.Value != 0:
					fmt.Fprintln(c.say, "  motion ■")
				case len(lv.spans) > n:
					fmt.Fprintf(c.say, "  quiet · (high for %.1fs)\n", float64(lv.spans[n])/1000)
				}
			}
		case "event":
			counts[l.Event]++
			fmt.Fprintf(c.say, "  counted: %s\n", formatCounts(counts))
		}
		return len(lv.spans) >= 3
	}, nil)
	if err != nil {
		return err
	}
	var problems []string
	if lv.changes == 0 && !(lv.known && lv.level) {
		problems = append(problems, "no motion seen: check the module's wiring, pin and that it faces the aisle")
	}
	current := paramOr(c.ss, "hold_ms")
	p := proposeHold(lv.spans, current)
	r := levelReport{Sensor: c.ss.ID, Kind: c.ss.Kind, Test: "stand/leave", OK: len(problems) == 0, Problems: problems, Counts: counts, Measured: p}
	if p.HoldMs != 0 {
		r.Proposal = map[string]string{"hold_ms": strconv.FormatInt(p.HoldMs, 10)}
	}
	return c.finish(r, func(w io.Writer) { formatPIRReport(w, r, p, current) })
}
