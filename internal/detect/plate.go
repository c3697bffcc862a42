package detect

import "github.com/omo-edge/edge-agent/internal/sensor"

// Registered from this file so that the NFC kinds plug into New without
// touching the table in detect.go.
func init() {
	kindDefs[sensor.KindNFCPlate] = kindDef{plateParams, newPlate}
	kindDefs[sensor.KindNFCReader] = kindDef{readerParams, newReader}
}

var plateParams = []param{
	{name: "merge_ms", def: 1500, min: 0, max: 60000,
		doc: "field-off gaps shorter than this are the same phone wobbling at the edge of range: one tap"},
	{name: "min_tap_ms", def: 80, min: 0, max: 10000,
		doc: "a phone reads the tag only in a field this long without a break; a run of shorter fields is phones swept past: no tap"},
}

// plate counts phone taps on a smart plate from its field-detect line
// (channel field: 1 a reader field is present, 0 gone). A tap is a run of
// field-on periods separated by gaps shorter than merge_ms; it is certain,
// and emitted, once the field has stayed off for merge_ms, stamped with
// that time. It counts only if one of its periods lasted min_tap_ms: a
// phone swept past (or several, close together) makes blips too short to
// read the tag. Readings may repeat a level (a polled NS_REG): only
// changes matter.
type plate struct {
	sensor  int
	merge   int64
	minTap  int64
	on      bool  // field present now
	open    bool  // a tap is under way (the field is on or off < merge)
	onSince int64 // when the field last came on
	longest int64 // longest unbroken field of the open tap, once it went off
	lastOff int64 // when the field last went off
	h       Health
}

func newPlate(spec sensor.Spec, index int, p values) (Detector, error) {
	if err := wantRole(spec, sensor.RolePlate); err != nil {
		return nil, err
	}
	return &plate{sensor: index, merge: p.get("merge_ms"), minTap: p.get("min_tap_ms"),
		h: Health{Learned: true, LastTMs: -1}}, nil
}

func (d *plate) Health() Health { return d.h }

// settle closes the open tap if the field has been off for merge ms at t.
func (d *plate) settle(t int64, out []sensor.Event) []sensor.Event {
	if d.open && !d.on && t-d.lastOff >= d.merge {
		d.open = false
		if d.longest >= d.minTap {
			out = append(out, sensor.Event{TMs: d.lastOff + d.merge, Sensor: d.sensor, Type: sensor.Tap})
		}
	}
	return out
}

func (d *plate) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel != 0 {
		return out
	}
	d.h.Readings++
	d.h.LastTMs = r.TMs
	if r.Value != 0 && r.Value != 1 {
		d.h.Invalid++
		d.h.InvalidShare = float64(d.h.Invalid) / float64(d.h.Readings)
		return d.settle(r.TMs, out)
	}
	out = d.settle(r.TMs, out)
	switch on := r.Value == 1; {
	case on && !d.on:
		if !d.open {
			d.open, d.longest = true, 0
		}
		d.on, d.onSince = true, r.TMs
	case !on && d.on:
		d.on, d.lastOff = false, r.TMs
		d.longest = max(d.longest, r.TMs-d.onSince)
	}
	return out
}

func (d *plate) Flush(tMs int64, out []sensor.Event) []sensor.Event { return d.settle(tMs, out) }

// wantRole refuses a spec built by hand for a role the kind does not count.
func wantRole(spec sensor.Spec, r sensor.Role) error {
	if spec.Role != r {
		return &roleError{spec: spec, want: r}
	}
	return nil
}

type roleError struct {
	spec sensor.Spec
	want sensor.Role
}

func (e *roleError) Error() string {
	return "sensor \"" + e.spec.ID + "\": a " + string(e.spec.Kind) + " detector counts role " + string(e.want) + ", not \"" + string(e.spec.Role) + "\""
}
