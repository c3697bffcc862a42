package detect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Detector turns the readings of one sensor into events. It is pure: all
// time comes from the readings' TMs and Flush's argument.
type Detector interface {
	// Feed takes one reading of this detector's sensor (r.Sensor == its index)
	// and appends the events it completes to out.
	Feed(r sensor.Reading, out []sensor.Event) []sensor.Event
	// Flush says no reading came up to tMs (a gap, the end of a trace): close
	// what has timed out and append its events.
	Flush(tMs int64, out []sensor.Event) []sensor.Event
}

// Health is what a detector knows about the state of its sensor.
type Health struct {
	Learned      bool    // the idle baseline is known (always true for level sensors)
	BaselineMM   [2]int  // tof-2zone: idle distance of z0, z1 (0 while learning)
	LastTMs      int64   // time of the last reading, -1 before the first
	Readings     uint64  // readings fed
	Invalid      uint64  // readings with no valid value (tof: -1)
	InvalidShare float64 // Invalid / Readings
}

// HealthReporter is implemented by every detector of this package.
type HealthReporter interface{ Health() Health }

// kindDef is what the package knows about one kind: its keys and how to
// build its detector from their values. New kinds (shelf, NFC) plug in here.
type kindDef struct {
	params []param
	build  func(spec sensor.Spec, index int, p values) (Detector, error)
}

var kindDefs = map[sensor.Kind]kindDef{
	sensor.KindToF2Zone: {tofParams, newToF},
	sensor.KindBeamPair: {beamParams, newBeam},
	sensor.KindPulse:    {pulseParams, newPulse},
}

// New returns the detector for spec, the sensor at index in the session's
// spec list. It validates spec.Params against the kind's keys.
func New(spec sensor.Spec, index int) (Detector, error) { return newFrom(kindDefs, spec, index) }

func newFrom(defs map[sensor.Kind]kindDef, spec sensor.Spec, index int) (Detector, error) {
	def, ok := defs[spec.Kind]
	if !ok {
		if !spec.Kind.Known() {
			return nil, fmt.Errorf("sensor %q: unknown kind %q", spec.ID, spec.Kind)
		}
		return nil, fmt.Errorf("sensor %q: kind %s is not supported yet (supported: %s)", spec.ID, spec.Kind, supported(defs))
	}
	if !spec.Kind.Plays(spec.Role) {
		return nil, fmt.Errorf("sensor %q: a %s sensor cannot play role %q", spec.ID, spec.Kind, spec.Role)
	}
	vals, err := parseParams(spec, def.params)
	if err != nil {
		return nil, err
	}
	return def.build(spec, index, vals)
}

// Supported reports whether New can build a detector for kind k.
func Supported(k sensor.Kind) bool { _, ok := kindDefs[k]; return ok }

func supported(defs map[sensor.Kind]kindDef) string {
	var ks []string
	for k := range defs {
		ks = append(ks, string(k))
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// param is one kind-specific key of spec.Params.
type param struct {
	name     string
	def      int64 // default; for optional keys, ignored
	min, max int64
	optional bool // absent means "not set" (e.g. learn the baseline)
	doc      string
}

// values holds parsed parameters by name; set reports optional keys given.
type values struct {
	v   map[string]int64
	set map[string]bool
}

func (v values) get(name string) int64 { return v.v[name] }

// Params returns the kind-specific keys a kind's detector accepts, with
// their default (-1 for "absent: learned/unused") and range, for
// documentation and config tools.
func Params(k sensor.Kind) []ParamInfo {
	var out []ParamInfo
	for _, p := range kindDefs[k].params {
		d := p.def
		if p.optional {
			d = -1
		}
		out = append(out, ParamInfo{Name: p.name, Default: d, Min: p.min, Max: p.max, Doc: p.doc})
	}
	return out
}

// ParamInfo describes one key of Params.
type ParamInfo struct {
	Name     string
	Default  int64
	Min, Max int64
	Doc      string
}

func parseParams(spec sensor.Spec, defs []param) (values, error) {
	v := values{v: map[string]int64{}, set: map[string]bool{}}
	for _, p := range defs {
		v.v[p.name] = p.def
	}
	keys := make([]string, 0, len(spec.Params))
	for k := range spec.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same error whatever the map order
	for _, k := range keys {
		val := spec.Params[k]
		var p *param
		for i := range defs {
			if defs[i].name == k {
				p = &defs[i]
			}
		}
		if p == nil {
			names := make([]string, len(defs))
			for i, d := range defs {
				names[i] = d.name
			}
			return v, fmt.Errorf("sensor %q: unknown key %q for kind %s (known: %s)", spec.ID, k, spec.Kind, strings.Join(names, ", "))
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil || n < p.min || n > p.max {
			return v, fmt.Errorf("sensor %q: key %s=%q: want a whole number from %d to %d", spec.ID, k, val, p.min, p.max)
		}
		v.v[k] = n
		v.set[k] = true
	}
	return v, nil
}
