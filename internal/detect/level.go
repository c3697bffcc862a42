package detect

import "github.com/omo-edge/edge-agent/internal/sensor"

// debounced is one on/off line (a beam, a pulse output) whose changes only
// count once the new level has held for debounce ms. Lines deliver only
// changes, so a change is confirmed by the next reading or a Flush.
type debounced struct {
	level   bool  // confirmed level
	since   int64 // when the confirmed level began
	pending bool  // a change to !level is waiting for confirmation
	pendT   int64
}

// set applies a raw change to v at t. A change back to the confirmed level
// before confirmation cancels the pending one: it was a glitch.
func (l *debounced) set(v bool, t int64) {
	switch {
	case l.pending && v == l.level:
		l.pending = false
	case !l.pending && v != l.level:
		l.pending, l.pendT = true, t
	}
}

// due reports whether the pending change is confirmed at t.
func (l *debounced) due(t, debounce int64) bool { return l.pending && t-l.pendT >= debounce }

// commit makes the pending change the confirmed level.
func (l *debounced) commit() {
	l.level, l.since, l.pending = !l.level, l.pendT, false
}

var pulseParams = []param{
	{name: "min_pulse_ms", def: 20, min: 1, max: 10000,
		doc: "shortest active pulse that counts as a person"},
	{name: "debounce_ms", def: 5, min: 0, max: 1000,
		doc: "a level change counts only if the new level holds this long (contact bounce)"},
}

// pulse counts the active pulses of a commercial counter's outputs: in →
// entry, out → exit (entrance); any line → passer-by (passerby).
type pulse struct {
	sensor   int
	role     sensor.Role
	l        [3]debounced
	minPulse int64
	debounce int64
	h        Health
}

func newPulse(spec sensor.Spec, index int, p values) (Detector, error) {
	return &pulse{sensor: index, role: spec.Role, minPulse: p.get("min_pulse_ms"),
		debounce: p.get("debounce_ms"), h: Health{Learned: true, LastTMs: -1}}, nil
}

func (d *pulse) Health() Health { return d.h }

func (d *pulse) settle(t int64, out []sensor.Event) []sensor.Event {
	for {
		ch := -1
		for i := range d.l {
			if d.l[i].due(t, d.debounce) && (ch < 0 || d.l[i].pendT < d.l[ch].pendT) {
				ch = i
			}
		}
		if ch < 0 {
			return out
		}
		l := &d.l[ch]
		began := l.since
		l.commit()
		if l.level || l.since-began < d.minPulse {
			continue
		}
		typ := sensor.Passerby
		if d.role == sensor.RoleEntrance {
			switch ch {
			case 0:
				typ = sensor.Entry
			case 1:
				typ = sensor.Exit
			default:
				continue // a pass line says nothing about direction
			}
		}
		out = append(out, sensor.Event{TMs: l.since + d.debounce, Sensor: d.sensor, Type: typ})
	}
}

func (d *pulse) Feed(r sensor.Reading, out []sensor.Event) []sensor.Event {
	if r.Channel < 0 || r.Channel > 2 {
		return out
	}
	d.h.Readings++
	d.h.LastTMs = r.TMs
	out = d.settle(r.TMs, out)
	d.l[r.Channel].set(r.Value != 0, r.TMs)
	return out
}

func (d *pulse) Flush(tMs int64, out []sensor.Event) []sensor.Event { return d.settle(tMs, out) }
