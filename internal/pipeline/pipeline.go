// Package pipeline is the pure core shared by the daemon and replay:
// readings → detectors → events → aggregator → closed windows. It reads no
// clock: readings carry monotonic t_ms, and wall time is anchor + t_ms once
// the caller knows an anchor it trusts.
package pipeline

import (
	"fmt"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// maxHeld bounds the events kept while no wall-clock anchor is known
// (a Pi booting without network). Past it the oldest are dropped and
// counted, rather than growing without limit.
const maxHeld = 1 << 20

// Pipeline derives windows from readings. One goroutine owns it.
type Pipeline struct {
	specs []sensor.Spec
	dets  []detect.Detector
	agg   *aggregate.Aggregator

	anchored bool
	anchor   int64 // wall ms at t_ms = 0
	lastT    []int64
	held     []sensor.Event
	heldLost int64

	flushEvery int64 // ordered input: flush every detector this often (ms of reading time)
	nextFlush  int64

	evs    []sensor.Event
	closed []aggregate.Window
}

// FlushEvery makes Feed flush every detector each ms of reading time, for
// input ordered by time across sensors (a trace). Sensors that report only
// changes (beams, pulses, plates) confirm an event at their next change or
// a flush: without this, a quiet sensor's last crossing would be dated, and
// windowed, at its next change. Live input is not ordered across sensors;
// the daemon advances on its own timer instead.
func (p *Pipeline) FlushEvery(ms int64) { p.flushEvery = ms }

// New builds detectors for specs. Errors name the sensor.
func New(specs []sensor.Spec, opts aggregate.Options) (*Pipeline, error) {
	p := &Pipeline{specs: specs, lastT: make([]int64, len(specs))}
	for i, s := range specs {
		d, err := detect.New(s, i)
		if err != nil {
			return nil, fmt.Errorf("sensor %q: %w", s.ID, err)
		}
		p.dets = append(p.dets, d)
	}
	agg, err := aggregate.New(specs, opts)
	if err != nil {
		return nil, err
	}
	p.agg = agg
	return p, nil
}

// Aggregator exposes the aggregator (for snapshots and status).
func (p *Pipeline) Aggregator() *aggregate.Aggregator { return p.agg }

// Detector returns sensor i's detector (for health).
func (p *Pipeline) Detector(i int) detect.Detector { return p.dets[i] }

// Anchored reports whether wall time is known.
func (p *Pipeline) Anchored() bool { return p.anchored }

// Anchor is wall ms at t_ms = 0.
func (p *Pipeline) Anchor() int64 { return p.anchor }

// HeldLost counts events dropped while waiting for an anchor.
func (p *Pipeline) HeldLost() int64 { return p.heldLost }

// Events returns the events the last Feed, Advance or Close detected, in
// order; the slice is reused by the next call.
func (p *Pipeline) Events() []sensor.Event { return p.evs }

// SetAnchor sets (or moves, after a clock step) the wall time of t_ms = 0.
// Events held while there was none are counted now, at their own times.
func (p *Pipeline) SetAnchor(wallMs int64) []aggregate.Window {
	p.anchor, p.anchored = wallMs, true
	p.evs = p.evs[:0] // detected before; not news
	p.closed = p.closed[:0]
	for _, e := range p.held {
		p.closed = p.agg.Add(e, p.anchor+e.TMs, p.closed)
	}
	p.held = p.held[:0]
	return p.closed
}

// Feed runs one reading through its sensor's detector and returns the
// windows that closed. The returned slice is reused by the next call.
// A reading older than its sensor's last one (readings from concurrent
// sources can cross on their way in) is taken as happening then.
func (p *Pipeline) Feed(r sensor.Reading) []aggregate.Window {
	if r.TMs < p.lastT[r.Sensor] {
		r.TMs = p.lastT[r.Sensor]
	}
	p.evs = p.evs[:0]
	if p.flushEvery > 0 && r.TMs >= p.nextFlush {
		p.nextFlush = r.TMs + p.flushEvery
		for i, d := range p.dets {
			if i != r.Sensor && r.TMs > p.lastT[i] {
				p.lastT[i] = r.TMs
				p.evs = d.Flush(r.TMs, p.evs)
			}
		}
	}
	p.lastT[r.Sensor] = r.TMs
	p.evs = p.dets[r.Sensor].Feed(r, p.evs)
	return p.count(r.TMs)
}

// Advance tells every detector that time tMs has come with no more
// readings, and closes the windows that have ended by then.
func (p *Pipeline) Advance(tMs int64) []aggregate.Window {
	p.evs = p.evs[:0]
	for i, d := range p.dets {
		if tMs > p.lastT[i] {
			p.lastT[i] = tMs
			p.evs = d.Flush(tMs, p.evs)
		}
	}
	return p.count(tMs)
}

// closeTailMs is how long after the last reading Close lets detectors
// finish: a crossing whose last change is the trace's last line is
// confirmed only once its debounce (or a plate's merge gap) has passed.
const closeTailMs = 2000

// Close ends the input at tMs (the end of a trace): every detector is
// flushed closeTailMs later so what was under way at the end completes,
// its events are dated no later than tMs, and the open window closes.
func (p *Pipeline) Close(tMs int64) []aggregate.Window {
	p.evs = p.evs[:0]
	for i, d := range p.dets {
		if end := tMs + closeTailMs; end > p.lastT[i] {
			p.lastT[i] = end
			p.evs = d.Flush(end, p.evs)
		}
	}
	for i := range p.evs {
		p.evs[i].TMs = min(p.evs[i].TMs, tMs)
	}
	ws := p.count(tMs)
	if !p.anchored {
		return ws
	}
	return p.agg.Close(ws)
}

func (p *Pipeline) count(tMs int64) []aggregate.Window {
	p.closed = p.closed[:0]
	if !p.anchored {
		for _, e := range p.evs {
			if len(p.held) >= maxHeld {
				// Drop the oldest eighth at once: one copy per 128k events,
				// not one per event.
				n := maxHeld / 8
				p.held = p.held[:copy(p.held, p.held[n:])]
				p.heldLost += int64(n)
			}
			p.held = append(p.held, e)
		}
		return p.closed
	}
	for _, e := range p.evs {
		p.closed = p.agg.Add(e, p.anchor+e.TMs, p.closed)
	}
	p.closed = p.agg.Advance(p.anchor+tMs, p.closed)
	return p.closed
}
