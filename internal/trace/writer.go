package trace

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Writer writes a trace: NewWriter writes the header, Write one reading at a
// time. Output is buffered; call Flush at the end.
type Writer struct {
	bw      *bufio.Writer
	sensors []sensorInfo
	lastT   int64
	n       int // readings written, for error messages
	buf     []byte
	err     error // sticky write error
}

// NewWriter checks h and writes it as a trace header. The header is parsed
// back as the reader would, so one the reader would reject (bad id, unknown
// kind, duplicate id, role key on the wrong role, a Params key with spaces
// or '=', a plate on an undeclared shelf) is refused here instead.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Start.IsZero() {
		return nil, errors.New("trace: header has no start time")
	}
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 128)}
	var sb strings.Builder
	sb.WriteString(Magic + "\n# start " + h.Start.UTC().Format(time.RFC3339Nano) + "\n")
	for i, s := range h.Sensors {
		rest, err := sensorFields(s)
		if err != nil {
			return nil, fmt.Errorf("trace: sensor %d: %w", i, err)
		}
		sb.WriteString("# sensor" + rest + "\n")
	}
	sb.WriteString(Columns + "\n")
	// Read the header back: whatever the reader would reject is refused
	// here, and the writer checks readings against the same sensor table.
	back, err := NewReader(strings.NewReader(sb.String()))
	if err != nil {
		return nil, fmt.Errorf("trace: header would not read back: %w", err)
	}
	wr.sensors = back.sensors
	if _, err := wr.bw.WriteString(sb.String()); err != nil {
		return nil, err
	}
	return wr, nil
}

// sensorFields formats the part of a "# sensor" line after the word sensor.
func sensorFields(s sensor.Spec) (string, error) {
	var b strings.Builder
	b.WriteString(" " + s.ID + " kind=" + string(s.Kind) + " role=" + string(s.Role))
	switch s.Role {
	case sensor.RoleShelf:
		if s.DwellMinMs != sensor.DefaultDwellMinMs {
			b.WriteString(" dwell_min_ms=" + strconv.FormatInt(s.DwellMinMs, 10))
		}
	case sensor.RoleCheckin:
		if s.RepeatMs != sensor.DefaultRepeatMs {
			b.WriteString(" repeat_ms=" + strconv.FormatInt(s.RepeatMs, 10))
		}
	case sensor.RolePasserby:
		if !s.CountsEntrants {
			b.WriteString(" counts_entrants=false")
		}
	case sensor.RolePlate:
		if s.Shelf != "" {
			b.WriteString(" shelf=" + s.Shelf)
		}
	}
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s.Params[k]
		switch k {
		case "kind", "role", "dwell_min_ms", "repeat_ms", "counts_entrants", "shelf":
			return "", fmt.Errorf("sensor %q: Params key %q is a field of its own", s.ID, k)
		}
		if k == "" || v == "" || !validKey(k) || strings.ContainsAny(v, " \t\r\n") {
			return "", fmt.Errorf("sensor %q: Params %q=%q cannot be written as key=value", s.ID, k, v)
		}
		b.WriteString(" " + k + "=" + v)
	}
	return b.String(), nil
}

// Write appends one reading. It refuses what the reader would reject: an
// unknown sensor or channel index, a decreasing or negative t_ms, a level
// other than 0/1, a distance below -1, an empty token.
func (w *Writer) Write(r sensor.Reading) error {
	if w.err != nil {
		return w.err
	}
	w.n++
	if r.Sensor < 0 || r.Sensor >= len(w.sensors) {
		return fmt.Errorf("trace: reading %d: sensor index %d out of range (%d sensors)", w.n, r.Sensor, len(w.sensors))
	}
	s := &w.sensors[r.Sensor]
	if r.Channel < 0 || r.Channel >= len(s.channels) {
		return fmt.Errorf("trace: reading %d: sensor %q has no channel %d", w.n, s.id, r.Channel)
	}
	if r.TMs < 0 || r.TMs < w.lastT {
		return fmt.Errorf("trace: reading %d: t_ms %d is negative or before the previous %d", w.n, r.TMs, w.lastT)
	}
	b := strconv.AppendInt(w.buf[:0], r.TMs, 10)
	b = append(b, ',')
	b = append(b, s.id...)
	b = append(b, ',')
	b = append(b, s.channels[r.Channel]...)
	b = append(b, ',')
	switch s.class {
	case classToken:
		if len(r.Token) == 0 {
			return fmt.Errorf("trace: reading %d: sensor %q needs a token", w.n, s.id)
		}
		b = hex.AppendEncode(b, r.Token)
	case classLevel:
		if r.Value != 0 && r.Value != 1 {
			return fmt.Errorf("trace: reading %d: sensor %q: level %d, want 0 or 1", w.n, s.id, r.Value)
		}
		b = strconv.AppendInt(b, r.Value, 10)
	case classDistance:
		if r.Value < -1 {
			return fmt.Errorf("trace: reading %d: sensor %q: distance %d, want >= -1", w.n, s.id, r.Value)
		}
		b = strconv.AppendInt(b, r.Value, 10)
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
		return err
	}
	w.lastT = r.TMs
	return nil
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
}
