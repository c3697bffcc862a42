package aggregate

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// SchemaVersion is the "v" field of every message; bump it on any change a
// subscriber could notice.
const SchemaVersion = 1

// Message types.
const (
	TypeSensorWindow = "sensor_window"
	TypeStoreWindow  = "store_window"
	TypeSummary      = "summary"
)

// Identity names the publisher of messages.
type Identity struct{ Store, Agent string }

// Encoder renders windows as the JSON messages published upstream. The
// field order is fixed so messages diff and golden-test well.
type Encoder struct {
	id    Identity
	specs []sensor.Spec
}

// NewEncoder returns an Encoder for the given sensors.
func NewEncoder(id Identity, specs []sensor.Spec) *Encoder { return &Encoder{id: id, specs: specs} }

// MessageID is the id of a window message: the same window always gets the
// same id, whenever and however often it is sent, so the cloud can dedupe.
func (e *Encoder) MessageID(subject string, start int64) string {
	return e.id.Store + "/" + e.id.Agent + "/" + subject + "/" + strconv.FormatInt(start/1000, 10)
}

func (e *Encoder) head(b []byte, typ, subject string, w *Window, seq uint64) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, SchemaVersion, 10)
	b = appendStr(append(b, `,"type":`...), typ)
	b = appendStr(append(b, `,"id":`...), e.MessageID(subject, w.Start))
	b = strconv.AppendUint(append(b, `,"seq":`...), seq, 10)
	b = appendStr(append(b, `,"store":`...), e.id.Store)
	b = appendStr(append(b, `,"agent":`...), e.id.Agent)
	return b
}

func appendSpan(b []byte, start, end int64) []byte {
	b = appendStr(append(b, `,"window_start":`...), rfc3339(start))
	return appendStr(append(b, `,"window_end":`...), rfc3339(end))
}

// SensorWindow appends sensor i's message for window w.
func (e *Encoder) SensorWindow(b []byte, w *Window, i int, seq uint64) []byte {
	s := e.specs[i]
	b = e.head(b, TypeSensorWindow, s.ID, w, seq)
	b = appendStr(append(b, `,"sensor":`...), s.ID)
	b = appendStr(append(b, `,"kind":`...), string(s.Kind))
	b = appendStr(append(b, `,"role":`...), string(s.Role))
	b = appendSpan(b, w.Start, w.End)
	b = appendRoleFields(b, s.Role, &w.Sensors[i])
	return append(b, '}')
}

// appendRoleFields writes the counter fields of trace-v1 for the role.
func appendRoleFields(b []byte, r sensor.Role, c *Counts) []byte {
	switch r {
	case sensor.RoleEntrance:
		b = appendInt(b, "entries", c.Entries)
		b = appendInt(b, "exits", c.Exits)
	case sensor.RolePasserby:
		b = appendInt(b, "passersby", c.Passersby)
	case sensor.RoleShelf:
		b = appendInt(b, "stop_bys", c.StopBys)
		p50, p90, ok := Percentiles(c.Dwells)
		if ok {
			b = appendInt(b, "dwell_p50_ms", p50)
			b = appendInt(b, "dwell_p90_ms", p90)
		} else {
			b = append(b, `,"dwell_p50_ms":null,"dwell_p90_ms":null`...)
		}
	case sensor.RolePlate:
		b = appendInt(b, "taps", c.Taps)
	case sensor.RoleCheckin:
		b = appendInt(b, "checkins", c.Checkins)
	}
	return b
}

// StoreWindow appends the store-level message for window w.
func (e *Encoder) StoreWindow(b []byte, w *Window, seq uint64) []byte {
	b = e.head(b, TypeStoreWindow, "store", w, seq)
	b = appendSpan(b, w.Start, w.End)
	t := totals(e.specs, w.Sensors)
	b = appendInt(b, "entries", t.Entries)
	b = appendInt(b, "exits", t.Exits)
	b = appendInt(b, "passersby", t.Passersby)
	b = appendInt(b, "occupancy", w.Occupancy)
	b = appendRates(b, e.specs, w.Sensors)
	return append(b, '}')
}

// Rates are the store-level ratios of trace-v1; nil means null (the
// denominator was zero).
type Rates struct {
	EntryRate  *float64
	StopByRate map[string]*float64 // per shelf
	TapRate    map[string]*float64 // per plate
}

// ComputeRates derives the rates from per-sensor counts.
func ComputeRates(specs []sensor.Spec, cs []Counts) Rates {
	t := totals(specs, cs)
	r := Rates{StopByRate: map[string]*float64{}, TapRate: map[string]*float64{}}
	den := t.Passersby
	if !countsEntrants(specs) {
		den += t.Entries
	}
	r.EntryRate = ratio(t.Entries, den)
	idx := map[string]int{}
	for i, s := range specs {
		idx[s.ID] = i
	}
	for i, s := range specs {
		switch s.Role {
		case sensor.RoleShelf:
			r.StopByRate[s.ID] = ratio(cs[i].StopBys, t.Entries)
		case sensor.RolePlate:
			var sb int64
			if j, ok := idx[s.Shelf]; ok {
				sb = cs[j].StopBys
			}
			r.TapRate[s.ID] = ratio(cs[i].Taps, sb)
		}
	}
	return r
}

func appendRates(b []byte, specs []sensor.Spec, cs []Counts) []byte {
	r := ComputeRates(specs, cs)
	b = append(b, `,"entry_rate":`...)
	b = appendRate(b, r.EntryRate)
	b = appendRateMap(b, "stop_by_rate", specs, sensor.RoleShelf, r.StopByRate)
	b = appendRateMap(b, "tap_rate", specs, sensor.RolePlate, r.TapRate)
	return b
}

func appendRateMap(b []byte, name string, specs []sensor.Spec, role sensor.Role, m map[string]*float64) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":{`...)
	first := true
	for _, s := range specs { // spec order, not map order: stable output
		if s.Role != role {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendStr(b, s.ID)
		b = append(b, ':')
		b = appendRate(b, m[s.ID])
	}
	return append(b, '}')
}

// countsEntrants reports whether the passer-by line also counts the people
// who walk in (trace-v1's default convention).
func countsEntrants(specs []sensor.Spec) bool {
	for _, s := range specs {
		if s.Role == sensor.RolePasserby {
			return s.CountsEntrants
		}
	}
	return true
}

// totals sums entrances and passer-by lines over the store.
func totals(specs []sensor.Spec, cs []Counts) Counts {
	var t Counts
	for i, s := range specs {
		switch s.Role {
		case sensor.RoleEntrance:
			t.Entries += cs[i].Entries
			t.Exits += cs[i].Exits
		case sensor.RolePasserby:
			t.Passersby += cs[i].Passersby
		}
	}
	return t
}

func ratio(num, den int64) *float64 {
	if den == 0 {
		return nil
	}
	x := math.Round(float64(num)/float64(den)*1e4) / 1e4
	return &x
}

// Percentiles returns the nearest-rank 50th and 90th percentiles of ds.
func Percentiles(ds []int64) (p50, p90 int64, ok bool) {
	if len(ds) == 0 {
		return 0, 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) int64 {
		k := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(k, 0)]
	}
	return rank(0.5), rank(0.9), true
}

func appendRate(b []byte, x *float64) []byte {
	if x == nil {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, *x, 'f', -1, 64)
}

func appendInt(b []byte, key string, v int64) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, v, 10)
}

// appendStr appends s as a JSON string. Ids and kinds are restricted to
// safe characters, but escape anyway: a message must always be valid JSON.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func rfc3339(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
