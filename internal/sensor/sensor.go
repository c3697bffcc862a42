// Package sensor is the shared vocabulary of edge-agent: the kinds of sensor
// hardware, the roles a sensor plays in a store, the readings drivers deliver
// and the events detection derives from them. It has no I/O and no clock.
package sensor

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kind is the hardware a sensor stands for (trace-v1 "kind").
type Kind string

// Sensor kinds of trace-v1.
const (
	KindToF2Zone    Kind = "tof-2zone"
	KindBeamPair    Kind = "beam-pair"
	KindPulse       Kind = "pulse"
	KindToFPresence Kind = "tof-presence"
	KindPIR         Kind = "pir"
	KindNFCPlate    Kind = "nfc-plate"
	KindNFCReader   Kind = "nfc-reader"
)

// Role is what a sensor counts in the store (trace-v1 "role").
type Role string

// Roles of trace-v1.
const (
	RoleEntrance Role = "entrance"
	RolePasserby Role = "passerby"
	RoleShelf    Role = "shelf"
	RolePlate    Role = "plate"
	RoleCheckin  Role = "checkin"
)

// kindInfo describes what a kind delivers and which roles it may play.
type kindInfo struct {
	channels []string
	roles    []Role
	token    bool // values are hex tokens, not integers
}

var kinds = map[Kind]kindInfo{
	KindToF2Zone:    {channels: []string{"z0", "z1"}, roles: []Role{RoleEntrance, RolePasserby}},
	KindBeamPair:    {channels: []string{"a", "b"}, roles: []Role{RoleEntrance, RolePasserby}},
	KindPulse:       {channels: []string{"in", "out", "pass"}, roles: []Role{RoleEntrance, RolePasserby}},
	KindToFPresence: {channels: []string{"d"}, roles: []Role{RoleShelf}},
	KindPIR:         {channels: []string{"motion"}, roles: []Role{RoleShelf}},
	KindNFCPlate:    {channels: []string{"field"}, roles: []Role{RolePlate}},
	KindNFCReader:   {channels: []string{"token"}, roles: []Role{RoleCheckin}, token: true},
}

// Kinds returns every known kind, sorted.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Known reports whether k is a kind of trace-v1.
func (k Kind) Known() bool { _, ok := kinds[k]; return ok }

// Channels returns the channel names of kind k, in index order.
func (k Kind) Channels() []string { return kinds[k].channels }

// Channel returns the index of channel name ch for kind k, or -1.
func (k Kind) Channel(ch string) int {
	for i, c := range kinds[k].channels {
		if c == ch {
			return i
		}
	}
	return -1
}

// TokenValued reports whether the kind's readings carry a hex token rather
// than an integer.
func (k Kind) TokenValued() bool { return kinds[k].token }

// Plays reports whether kind k can play role r.
func (k Kind) Plays(r Role) bool {
	for _, x := range kinds[k].roles {
		if x == r {
			return true
		}
	}
	return false
}

// Known reports whether r is a role of trace-v1.
func (r Role) Known() bool {
	switch r {
	case RoleEntrance, RolePasserby, RoleShelf, RolePlate, RoleCheckin:
		return true
	}
	return false
}

// Reading is one raw sample as a driver delivers it. TMs counts milliseconds
// from the start of the session (a trace's start, or the daemon's monotonic
// clock origin): it never goes backwards and never reads the wall clock.
type Reading struct {
	TMs     int64
	Sensor  int   // index of the sensor in the session's spec list
	Channel int   // index into Kind.Channels()
	Value   int64 // distance in mm (-1 = no valid range) or 0/1 level
	Token   []byte
}

// EventType is what detection saw happen.
type EventType uint8

// Event types.
const (
	Entry    EventType = iota + 1 // crossed street side -> store side
	Exit                          // crossed store side -> street side
	Passerby                      // crossed a passer-by line, either way
	StopBy                        // stayed at a shelf at least dwell_min_ms
	Tap                           // a phone tapped a plate
	Checkin                       // a distinct check-in at a reader
)

var eventNames = [...]string{"", "entry", "exit", "passerby", "stop_by", "tap", "checkin"}

func (t EventType) String() string {
	if int(t) < len(eventNames) && t != 0 {
		return eventNames[t]
	}
	return "event(" + strconv.Itoa(int(t)) + ")"
}

// Event is one thing detection derived, stamped with the reading time at
// which it became certain.
type Event struct {
	TMs     int64
	Sensor  int
	Type    EventType
	DwellMs int64  // StopBy: how long the shopper stayed
	Subject string // Checkin: the pseudonymized token
}

// Defaults of role keys (trace-v1).
const (
	DefaultDwellMinMs = 3000
	DefaultRepeatMs   = 600000
)

// Spec describes one sensor: what it is, what it counts and the keys that
// tune it. Role keys of trace-v1 are typed fields; kind-specific keys stay in
// Params for the detector of that kind to validate.
type Spec struct {
	ID   string
	Kind Kind
	Role Role

	DwellMinMs     int64  // shelf: minimum stay for a stop-by
	RepeatMs       int64  // checkin: same token within this is one check-in
	CountsEntrants bool   // passerby: the line also sees those who walk in
	Shelf          string // plate: the shelf it sits on

	// Params holds the kind's own keys (thresholds, calibration...), as text.
	Params map[string]string
}

// NewSpec checks id, kind and role, applies the role defaults and then the
// given key=value pairs. Keys that are not role keys are kept in Params;
// whether the kind knows them is for its detector to say.
func NewSpec(id string, kind Kind, role Role, kv [][2]string) (Spec, error) {
	s := Spec{ID: id, Kind: kind, Role: role, DwellMinMs: DefaultDwellMinMs, RepeatMs: DefaultRepeatMs, CountsEntrants: true}
	if err := ValidID(id); err != nil {
		return s, fmt.Errorf("sensor %w", err)
	}
	if !kind.Known() {
		return s, fmt.Errorf("sensor %q: unknown kind %q (known: %s)", id, kind, joinKinds())
	}
	if !role.Known() {
		return s, fmt.Errorf("sensor %q: unknown role %q (known: entrance, passerby, shelf, plate, checkin)", id, role)
	}
	if !kind.Plays(role) {
		return s, fmt.Errorf("sensor %q: a %s sensor cannot play role %s", id, kind, role)
	}
	for _, p := range kv {
		if err := s.Set(p[0], p[1]); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Set applies one key=value. Role keys are parsed here; other keys go to
// Params unparsed.
func (s *Spec) Set(key, val string) error {
	bad := func(what string) error {
		return fmt.Errorf("sensor %q: key %s=%q: %s", s.ID, key, val, what)
	}
	switch key {
	case "dwell_min_ms":
		if s.Role != RoleShelf {
			return bad("only a shelf sensor has dwell_min_ms")
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n <= 0 {
			return bad("want a whole number of milliseconds > 0")
		}
		s.DwellMinMs = n
	case "repeat_ms":
		if s.Role != RoleCheckin {
			return bad("only a checkin sensor has repeat_ms")
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			return bad("want a whole number of milliseconds >= 0")
		}
		s.RepeatMs = n
	case "counts_entrants":
		if s.Role != RolePasserby {
			return bad("only a passerby sensor has counts_entrants")
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return bad("want true or false")
		}
		s.CountsEntrants = b
	case "shelf":
		if s.Role != RolePlate {
			return bad("only a plate has a shelf")
		}
		if err := ValidID(val); err != nil {
			return bad(err.Error())
		}
		s.Shelf = val
	default:
		if s.Params == nil {
			s.Params = map[string]string{}
		}
		s.Params[key] = val
	}
	return nil
}

// ValidID checks a sensor id: it ends up in MQTT topics and JSON keys, so it
// is kept to [A-Za-z0-9_.-], 1..64 characters.
func ValidID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("id %q: want 1 to 64 characters", id)
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return fmt.Errorf("id %q: only letters, digits, '-', '_' and '.' are allowed", id)
		}
	}
	return nil
}

func joinKinds() string {
	var b strings.Builder
	for i, k := range Kinds() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(k))
	}
	return b.String()
}
