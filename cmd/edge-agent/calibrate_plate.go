package main

// calibrate for NFC: a smart plate's tap test (field flicker, merge_ms)
// and a check-in reader's "present a card" test. Tokens arrive
// pseudonymized from the daemon; only a short prefix is ever shown.

import (
	"fmt"
	"io"
	"strconv"

	"github.com/omo-edge/edge-agent/internal/agent"
)

const (
	tapsWanted  = 3
	tokenPrefix = 8 // hex characters of a pseudonymized token shown
)

// tapGroup is one tap of the test: field-on periods separated by gaps
// shorter than the grouping gap.
type tapGroup struct {
	Fields     int   `json:"fields"`         // field on/off periods that made it
	LongestOn  int64 `json:"longest_on_ms"`  // its longest unbroken field
	LongestGap int64 `json:"longest_gap_ms"` // its longest flicker gap (0: one field)
}

// groupGapMs: the test asks for taps a few seconds apart, so field-off
// gaps shorter than this (or merge_ms + 1 s, if longer) are one tap's
// flicker.
const groupGapMs = 3000

// tapGroups groups a plate's field periods: ons[i] is the i-th field-on
// duration, gaps[i] the field-off gap after it (len(gaps) == len(ons)-1).
func tapGroups(ons, gaps []int64, merge int64) []tapGroup {
	limit := max(int64(groupGapMs), merge+1000)
	var out []tapGroup
	for i, on := range ons {
		if i == 0 || gaps[i-1] >= limit {
			out = append(out, tapGroup{})
		}
		g := &out[len(out)-1]
		g.Fields++
		g.LongestOn = max(g.LongestOn, on)
		if i > 0 && gaps[i-1] < limit {
			g.LongestGap = max(g.LongestGap, gaps[i-1])
		}
	}
	return out
}

// completeTaps is how many tap groups are over at now: the last one only
// once the field has stayed off for the grouping gap.
func completeTaps(lv *levelLog, merge, now int64) int {
	gaps := lv.gaps
	if len(gaps) > max(len(lv.spans)-1, 0) {
		gaps = gaps[:max(len(lv.spans)-1, 0)]
	}
	n := len(tapGroups(lv.spans, gaps, merge))
	if n > 0 && (lv.level || now-lv.lastOff < max(int64(groupGapMs), merge+1000)) {
		n--
	}
	return n
}

// mergeProposal is the plate rule's result.
type mergeProposal struct {
	Taps    []tapGroup `json:"taps"`
	MergeMs int64      `json:"merge_ms"` // 0: none proposed
	short   int        // taps whose longest field is under min_tap_ms
	why     string
}

// proposeMerge: a tap's flicker gap of merge_ms or more splits it in the
// daemon's count, so merge_ms = 1.5 × the longest flicker gap, rounded up
// to 100 ms, proposed when that gap reaches the current merge_ms.
func proposeMerge(groups []tapGroup, merge, minTap int64) mergeProposal {
	p := mergeProposal{Taps: groups}
	var gap int64
	for _, g := range groups {
		gap = max(gap, g.LongestGap)
		if g.LongestOn < minTap {
			p.short++
		}
	}
	p.why = fmt.Sprintf("the longest flicker gap is %d ms; merge_ms must exceed it (1.5 x, rounded up to 100 ms)", gap)
	if gap >= merge {
		p.MergeMs = min((gap*3/2+99)/100*100, 60000)
	}
	return p
}

func formatPlateReport(w io.Writer, r levelReport, p mergeProposal, merge, minTap int64) {
	fmt.Fprintf(w, "%s (nfc-plate): %s\n", r.Sensor, okText(r.OK))
	for _, pr := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", pr)
	}
	fmt.Fprintf(w, "  counted by the daemon: %s\n", formatCounts(r.Counts))
	for i, g := range p.Taps {
		note := ""
		if g.LongestOn < minTap {
			note = fmt.Sprintf("  (under min_tap_ms %d: not a tap)", minTap)
		}
		fmt.Fprintf(w, "  tap %d: %d field on/off, longest field %d ms, longest flicker gap %d ms%s\n", i+1, g.Fields, g.LongestOn, g.LongestGap, note)
	}
	if p.MergeMs != 0 {
		fmt.Fprintf(w, "proposal:\n  merge_ms %d   (now %d; %s)\n", p.MergeMs, merge, p.why)
		return
	}
	fmt.Fprintf(w, "no proposal: merge_ms %d fits (%s)\n", merge, p.why)
}

// calibratePlate: the tap test on a terminal; without one, the plate is
// watched for --idle.
func calibratePlate(c *calibSession) error {
	var lv levelLog
	counts := map[string]int{}
	merge, minTap := paramOr(c.ss, "merge_ms"), paramOr(c.ss, "min_tap_ms")
	limit := c.opts.idle
	if c.tty && c.opts.walk > 0 {
		limit = c.opts.walk
		fmt.Fprintf(c.say, "tap test on %s: tap the plate %d times with a phone, a few seconds apart\n", c.ss.ID, tapsWanted)
	} else {
		fmt.Fprintf(c.say, "watching %s for %s\n", c.ss.ID, limit)
	}
	fields := 0
	interactive := c.tty && c.opts.walk > 0
	finished := make(chan struct{}, 1)
	c.stop = finished
	_, err := c.loop(limit, func(l *agent.StreamLine) bool {
		switch l.Type {
		case "reading":
			if c.kind.Channel(l.Channel) == 0 {
				was := lv.known && lv.level
				lv.set(l.Value != 0, l.TMs)
				if l.Value != 0 && !was {
					fields++
					fmt.Fprintf(c.say, "  field ■ (%d on/off so far)\n", fields)
				}
			}
		case "event":
			counts[l.Event]++
			fmt.Fprintf(c.say, "  counted by the daemon: %s\n", formatCounts(counts))
		}
		return interactive && completeTaps(&lv, merge, l.TMs) >= tapsWanted
	}, func(now int64) {
		if interactive && completeTaps(&lv, merge, now) >= tapsWanted {
			finished <- struct{}{}
		}
	})
	if err != nil {
		return err
	}
	ons := lv.spans
	gaps := lv.gaps
	if len(gaps) > max(len(ons)-1, 0) {
		gaps = gaps[:max(len(ons)-1, 0)]
	}
	p := proposeMerge(tapGroups(ons, gaps, merge), merge, minTap)
	var problems []string
	if interactive {
		switch {
		case len(ons) == 0:
			problems = append(problems, "no field seen: check the plate's field-detect wiring and that the phone's NFC is on")
		case len(p.Taps) != tapsWanted:
			problems = append(problems, fmt.Sprintf("%d taps seen, %d asked (a few seconds apart)", len(p.Taps), tapsWanted))
		case counts["tap"] != len(p.Taps) && p.MergeMs == 0:
			problems = append(problems, fmt.Sprintf("the daemon counted %d taps for %d: check min_tap_ms %d against the taps' longest fields", counts["tap"], len(p.Taps), minTap))
		}
	}
	r := levelReport{Sensor: c.ss.ID, Kind: c.ss.Kind, Test: "tap", OK: len(problems) == 0, Problems: problems, Counts: counts, Measured: p}
	if p.MergeMs != 0 {
		r.Proposal = map[string]string{"merge_ms": strconv.FormatInt(p.MergeMs, 10)}
	}
	return c.finish(r, func(w io.Writer) { formatPlateReport(w, r, p, merge, minTap) })
}

// checkinTest: "present a card"; shows each read's pseudonymized token
// prefix and the daemon's check-ins. Nothing to calibrate.
func checkinTest(c *calibSession) error {
	counts := map[string]int{}
	reads := 0
	var prefixes []string
	limit := c.opts.idle
	if c.tty && c.opts.walk > 0 {
		limit = c.opts.walk
		fmt.Fprintf(c.say, "card test on %s: present a member card to the reader\n", c.ss.ID)
	} else {
		fmt.Fprintf(c.say, "watching %s for %s\n", c.ss.ID, limit)
	}
	_, err := c.loop(limit, func(l *agent.StreamLine) bool {
		switch l.Type {
		case "reading":
			if l.Token == "" {
				return false
			}
			reads++
			p := l.Token[:min(tokenPrefix, len(l.Token))]
			if len(prefixes) == 0 || prefixes[len(prefixes)-1] != p {
				prefixes = append(prefixes, p)
			}
			fmt.Fprintf(c.say, "  card read: token %s… (pseudonymized)\n", p)
		case "event":
			counts[l.Event]++
			fmt.Fprintf(c.say, "  counted: %s\n", formatCounts(counts))
			return c.tty && counts["checkin"] >= 1
		}
		return false
	}, nil)
	if err != nil {
		return err
	}
	var problems []string
	if c.tty && c.opts.walk > 0 && counts["checkin"] == 0 {
		problems = append(problems, "no check-in: check the reader's wiring (probe) and hold the card flat on it for a second")
	}
	type measured struct {
		Reads  int      `json:"reads"`
		Tokens []string `json:"token_prefixes"`
	}
	r := levelReport{Sensor: c.ss.ID, Kind: c.ss.Kind, Test: "card", OK: len(problems) == 0, Problems: problems, Counts: counts,
		Measured: measured{reads, prefixes}}
	return c.finish(r, func(w io.Writer) { formatCheckinReport(w, r, reads, prefixes) })
}

func formatCheckinReport(w io.Writer, r levelReport, reads int, prefixes []string) {
	fmt.Fprintf(w, "%s (nfc-reader): %s\n", r.Sensor, okText(r.OK))
	for _, pr := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", pr)
	}
	fmt.Fprintf(w, "  counted by the daemon: %s\n", formatCounts(r.Counts))
	fmt.Fprintf(w, "  card reads: %d", reads)
	for _, p := range prefixes {
		fmt.Fprintf(w, " %s…", p)
	}
	fmt.Fprintln(w, " (pseudonymized token prefixes)")
}
