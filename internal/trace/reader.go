package trace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Reader reads a trace: NewReader parses the header, Next one reading at a
// time.
type Reader struct {
	br      *bufio.Reader
	line    int // number of the line last read
	hdr     Header
	sensors []sensorInfo
	byID    map[string]int // sensor index by id, when there are many
	lastT   int64
	err     error  // sticky: once failed, every Next returns it
	tokens  []byte // block that decoded tokens are carved from
}

// linearMax is how many sensors are looked up by a scan rather than a map:
// a few length-checked comparisons beat hashing.
const linearMax = 8

// tokenBlock is the size of the blocks decoded tokens are carved from.
const tokenBlock = 4 << 10

// NewReader reads the header of a trace through its column line.
func NewReader(rd io.Reader) (*Reader, error) {
	r := &Reader{br: bufio.NewReaderSize(rd, MaxLineLen)}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// Header returns what the trace declared. Its slices are shared with the
// reader; do not modify them.
func (r *Reader) Header() Header { return r.hdr }

func (r *Reader) errorf(format string, args ...any) *Error {
	return &Error{Line: r.line, Msg: fmt.Sprintf(format, args...)}
}

// readLine returns the next line without its line end, io.EOF after the
// last one, or an *Error. The slice is valid until the next call.
func (r *Reader) readLine() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	switch {
	case err == nil:
		b = b[:len(b)-1]
	case err == io.EOF:
		if len(b) == 0 {
			return nil, io.EOF
		}
	case errors.Is(err, bufio.ErrBufferFull):
		r.line++
		return nil, r.errorf("line longer than %d bytes", MaxLineLen)
	default:
		r.line++
		return nil, r.errorf("read: %v", err)
	}
	r.line++
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b, nil
}

// directive returns the first word of a '#' line ("start", "sensor", ...)
// and the rest of the line after it.
func directive(b []byte) (word, rest string) {
	s := strings.TrimLeft(string(b[1:]), " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func isDirective(word string) bool {
	return word == "start" || word == "sensor" || word == "edge-agent-trace"
}

func (r *Reader) readHeader() error {
	b, err := r.readLine()
	if err == io.EOF {
		return &Error{Line: 1, Msg: "empty file: want first line " + strconv.Quote(Magic)}
	}
	if err != nil {
		return err
	}
	if string(b) != Magic {
		switch {
		case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
			return r.errorf("file starts with a UTF-8 byte-order mark; want first line %q", Magic)
		case bytes.HasPrefix(b, []byte("# edge-agent-trace ")):
			return r.errorf("unsupported trace version %s; this reader knows %q", quote(b), Magic)
		}
		return r.errorf("not an edge-agent trace: first line must be %q, got %s", Magic, quote(b))
	}
	startLine := 0
	index := map[string]int{} // sensor index by id
	for {
		b, err := r.readLine()
		if err == io.EOF {
			r.line++
			return r.errorf("end of file before the column line %q", Columns)
		}
		if err != nil {
			return err
		}
		if len(b) > 0 && b[0] == '#' {
			word, rest := directive(b)
			switch word {
			case "start":
				if startLine != 0 {
					return r.errorf("second \"# start\" line (the first is line %d)", startLine)
				}
				t, err := parseStart(rest)
				if err != nil {
					return r.errorf("%v", err)
				}
				r.hdr.Start, startLine = t, r.line
			case "sensor":
				spec, err := parseSensor(rest)
				if err != nil {
					return r.errorf("%v", err)
				}
				if i, dup := index[spec.ID]; dup {
					return r.errorf("sensor %q already declared on line %d", spec.ID, r.hdr.SensorLines[i])
				}
				index[spec.ID] = len(r.hdr.Sensors)
				r.hdr.Sensors = append(r.hdr.Sensors, spec)
				r.hdr.SensorLines = append(r.hdr.SensorLines, r.line)
			case "edge-agent-trace":
				return r.errorf("second version line; %q belongs on line 1 only", Magic)
			}
			continue // any other '#' line is a comment
		}
		if string(b) != Columns {
			if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
				return r.errorf("reading before the column line: want %q here", Columns)
			}
			return r.errorf("want the column line %q, got %s", Columns, quote(b))
		}
		break
	}
	if startLine == 0 {
		return r.errorf("no \"# start <RFC 3339 UTC time>\" line before the column line")
	}
	if err := r.checkShelves(index); err != nil {
		return err
	}
	r.sensors = make([]sensorInfo, len(r.hdr.Sensors))
	for i, s := range r.hdr.Sensors {
		r.sensors[i] = infoOf(s)
	}
	if len(r.sensors) > linearMax {
		r.byID = make(map[string]int, len(r.sensors))
		for i, s := range r.sensors {
			r.byID[s.id] = i
		}
	}
	return nil
}

// checkShelves checks that each plate's shelf= names a declared shelf.
func (r *Reader) checkShelves(index map[string]int) error {
	for i, s := range r.hdr.Sensors {
		if s.Role != sensor.RolePlate || s.Shelf == "" {
			continue
		}
		e := &Error{Line: r.hdr.SensorLines[i]}
		j, ok := index[s.Shelf]
		switch {
		case !ok:
			e.Msg = fmt.Sprintf("sensor %q: shelf=%q is not a sensor declared in this trace", s.ID, s.Shelf)
			return e
		case r.hdr.Sensors[j].Role != sensor.RoleShelf:
			e.Msg = fmt.Sprintf("sensor %q: shelf=%q (line %d) has role %s, not shelf",
				s.ID, s.Shelf, r.hdr.SensorLines[j], r.hdr.Sensors[j].Role)
			return e
		}
	}
	return nil
}

func parseStart(rest string) (time.Time, error) {
	v := strings.TrimSpace(rest)
	if v == "" {
		return time.Time{}, fmt.Errorf("want \"# start <RFC 3339 UTC time>\", e.g. \"# start 2026-03-02T09:00:00Z\"")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("start %q is not an RFC 3339 time such as 2026-03-02T09:00:00Z", v)
	}
	if _, off := t.Zone(); off != 0 {
		return time.Time{}, fmt.Errorf("start %q is not in UTC: write it with a Z offset", v)
	}
	return t.UTC(), nil
}

// parseSensor parses the part of a "# sensor" line after the word sensor:
// "<id> kind=<kind> role=<role> [key=value ...]".
func parseSensor(rest string) (sensor.Spec, error) {
	f := strings.Fields(rest)
	if len(f) == 0 || strings.Contains(f[0], "=") {
		return sensor.Spec{}, fmt.Errorf("want \"# sensor <id> kind=<kind> role=<role> [key=value ...]\"")
	}
	id := f[0]
	if err := sensor.ValidID(id); err != nil {
		return sensor.Spec{}, fmt.Errorf("sensor %w", err)
	}
	var kind, role string
	var kv [][2]string
	seen := map[string]bool{}
	for _, p := range f[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return sensor.Spec{}, fmt.Errorf("sensor %q: %q is not key=value", id, p)
		}
		if !validKey(k) {
			return sensor.Spec{}, fmt.Errorf("sensor %q: key %q: only letters, digits, '_', '-' and '.' are allowed", id, k)
		}
		if seen[k] {
			return sensor.Spec{}, fmt.Errorf("sensor %q: key %s given twice", id, k)
		}
		seen[k] = true
		switch k {
		case "kind":
			kind = v
		case "role":
			role = v
		default:
			kv = append(kv, [2]string{k, v})
		}
	}
	if kind == "" {
		return sensor.Spec{}, fmt.Errorf("sensor %q: missing kind=", id)
	}
	if role == "" {
		return sensor.Spec{}, fmt.Errorf("sensor %q: missing role=", id)
	}
	return sensor.NewSpec(id, sensor.Kind(kind), sensor.Role(role), kv)
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return k != ""
}

// Next reads the next reading into rd. It returns io.EOF after the last one
// and an *Error for a bad line; after an error every call returns it again.
// rd.Token is nil except for token-valued kinds, where it holds the decoded
// token (see the package comment).
func (r *Reader) Next(rd *sensor.Reading) error {
	if r.err != nil {
		return r.err
	}
	for {
		b, err := r.readLine()
		if err != nil {
			r.err = err
			return err
		}
		if len(b) > 0 && b[0] == '#' {
			if word, _ := directive(b); isDirective(word) {
				r.err = r.errorf("\"# %s\" after the column line; the header ends at the column line", word)
				return r.err
			}
			continue
		}
		if err := r.parse(b, rd); err != nil {
			r.err = err
			return err
		}
		return nil
	}
}

// parse parses one reading line in place.
func (r *Reader) parse(b []byte, rd *sensor.Reading) error {
	if len(b) == 0 {
		return r.errorf("empty line; want a reading t_ms,sensor,channel,value")
	}
	// One pass for the three commas: on fields this short a byte loop beats
	// IndexByte's call and setup.
	var c [3]int
	nc := 0
	for i, ch := range b {
		if ch == ',' {
			if nc == 3 {
				return r.fieldCount(b)
			}
			c[nc] = i
			nc++
		}
	}
	if nc != 3 {
		return r.fieldCount(b)
	}
	c1, c2, c3 := c[0], c[1], c[2]
	tf, sf, cf, vf := b[:c1], b[c1+1:c2], b[c2+1:c3], b[c3+1:]

	t, ok := parseInt(tf)
	if !ok || t < 0 || tf[0] == '-' {
		return r.errorf("t_ms %s is not a whole number of milliseconds >= 0", quote(tf))
	}
	if t < r.lastT {
		return r.errorf("t_ms %d is before the previous reading's %d; t_ms must never decrease", t, r.lastT)
	}

	si := r.sensorIndex(sf)
	if si < 0 {
		return r.errorf("undeclared sensor %s", quote(sf))
	}
	s := &r.sensors[si]
	ci := -1
	for i, c := range s.channels {
		if c == string(cf) {
			ci = i
			break
		}
	}
	if ci < 0 {
		return r.errorf("sensor %q (%s) has no channel %s; its channels are %s",
			s.id, s.kind, quote(cf), strings.Join(s.channels, ", "))
	}

	rd.TMs, rd.Sensor, rd.Channel, rd.Value, rd.Token = t, si, ci, 0, nil
	switch s.class {
	case classToken:
		tok, ok := r.decodeToken(vf)
		if !ok {
			return r.errorf("value %s of %s/%s: want a hex token (an even number, at least 2, of hex digits)", quote(vf), s.id, cf)
		}
		rd.Token = tok
	case classLevel:
		v, ok := parseInt(vf)
		if !ok || (v != 0 && v != 1) {
			return r.errorf("value %s of %s/%s: want 0 or 1", quote(vf), s.id, cf)
		}
		rd.Value = v
	case classDistance:
		v, ok := parseInt(vf)
		if !ok || v < -1 {
			return r.errorf("value %s of %s/%s: want a distance in mm >= 0, or -1 for no valid range", quote(vf), s.id, cf)
		}
		rd.Value = v
	}
	r.lastT = t
	return nil
}

func (r *Reader) fieldCount(b []byte) error {
	return r.errorf("%d comma-separated fields, want 4: t_ms,sensor,channel,value", bytes.Count(b, []byte{','})+1)
}

func (r *Reader) sensorIndex(b []byte) int {
	if r.byID != nil {
		if i, ok := r.byID[string(b)]; ok {
			return i
		}
		return -1
	}
	for i := range r.sensors {
		if r.sensors[i].id == string(b) {
			return i
		}
	}
	return -1
}

// decodeToken decodes hex digits into a slice carved from the current
// token block; the slice is capped so an append by the caller cannot
// overwrite the next token.
func (r *Reader) decodeToken(h []byte) ([]byte, bool) {
	if len(h) == 0 || len(h)%2 != 0 {
		return nil, false
	}
	n := len(h) / 2
	if cap(r.tokens)-len(r.tokens) < n {
		r.tokens = make([]byte, 0, max(tokenBlock, n))
	}
	start := len(r.tokens)
	out := r.tokens[start : start+n : start+n]
	for i := range out {
		hi, ok1 := unhex(h[2*i])
		lo, ok2 := unhex(h[2*i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		out[i] = hi<<4 | lo
	}
	r.tokens = r.tokens[:start+n]
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseInt parses an optional '-' and one or more decimal digits into an
// int64, rejecting overflow.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		d := uint64(c - '0')
		if d > 9 {
			return 0, false
		}
		if n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + d
		if n > 1<<63 {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to MinInt64, as intended
	}
	if n == 1<<63 {
		return 0, false
	}
	return int64(n), true
}

// quote quotes a field for an error message, shortened if long.
func quote(b []byte) string {
	const maxShown = 40
	if len(b) > maxShown {
		return strconv.Quote(string(b[:maxShown])) + "..."
	}
	return strconv.Quote(string(b))
}
