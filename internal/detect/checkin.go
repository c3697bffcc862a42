package detect

import (
	"encoding/hex"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// readerParams: an nfc-reader has no keys of its own; its window is the
// checkin role's repeat_ms (sensor.Spec.RepeatMs).
var readerParams = []param{}

// reader counts check-ins at an NFC reader from the tokens it reads, one
// reading per successful poll (already pseudonymized at the edge: the
// detector never sees a raw UID).
//
// trace-v1: "the same token again within repeat_ms of its last check-in is
// the same check-in". The window runs from the check-in itself, not from the
// latest poll: a card held on the reader for seconds, or presented again a
// few minutes later, is the same check-in, but polls do not push the window
// on, so a member who stays within reach of the reader (or whose card lies
// on it) checks in again every repeat_ms rather than never. A poll exactly
// repeat_ms after the check-in is a new one.
//
// Memory holds only tokens checked in during the last repeat_ms: older ones
// are evicted in check-in order, which is time order.
type reader struct {
	sensor int
	repeat int64
	last   map[string]int64 // token -> time of its last check-in
	queue  []checkinAt      // check-ins in time order, from head
	head   int
	h      Health
}

type checkinAt struct {
	t   int64
	tok string
}

func newReader(spec sensor.Spec, index int, _ values) (Detector, error) {
	if err := wantRole(spec, sensor.RoleCheckin); err != nil {
		return nil, err
	}
	return &reader{sensor: index, repeat: spec.RepeatMs, last: map[string]int64{},
		h: Health{Learned: true, LastTMs: -1}}, nil
}

func (d *reader) Health() Health { return d.h }

// evict forgets the check-ins a poll at t can no longer repeat.
func (d *reader) evict(t int64) {
	for d.head < len(d.queue) && t-d.queue[d.head].t >= d.repeat {
		c := d.queue[d.head]
		if d.last[c.tok] == c.t { // not checked in again since
			delete(d.last, c.tok)
		}
		d.queue[d.head] = checkinAt{}
		d.head++
	}
	// Reuse the slice once most of it is dead, so it stays at the size of
	// one repeat window.
	if d.head > 64 && d.head*2 >= len(d.queue) {
		n := copy(d.queue, d.queue[d.head:])
		clear(d.queue[n:])
		d.queue, d.head = d.queue[:n], 0
	}
}

func (d *reader) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel != 0 {
		return out
	}
	d.h.Readings++
	d.h.LastTMs = r.TMs
	d.evict(r.TMs)
	if len(r.Token) == 0 {
		d.h.Invalid++
		d.h.InvalidShare = float64(d.h.Invalid) / float64(d.h.Readings)
		return out
	}
	if t, ok := d.last[string(r.Token)]; ok && r.TMs-t < d.repeat {
		return out // the same check-in: no allocation on this, the common path
	}
	tok := string(r.Token)
	d.last[tok] = r.TMs
	d.queue = append(d.queue, checkinAt{t: r.TMs, tok: tok})
	return append(out, sensor.Event{TMs: r.TMs, Sensor: d.sensor, Type: sensor.Checkin, Subject: hex.EncodeToString(r.Token)})
}

// Flush only forgets: a check-in is certain at its first poll.
func (d *reader) Flush(tMs int64, out []sensor.Event) []sensor.Event {
	d.evict(tMs)
	return out
}

// tracked is the number of tokens held in memory (for tests).
func (d *reader) tracked() int { return len(d.last) }
