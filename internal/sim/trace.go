package sim

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// Role is the role a sensor on this line plays: entrance at a door,
// passerby at a storefront.
func (w *World) Role() sensor.Role {
	if w.cfg.Line == Storefront {
		return sensor.RolePasserby
	}
	return sensor.RoleEntrance
}

// Readings appends to dst, in time order, what a driver of the given kind
// watching this line delivers over the world's duration, as sensor index
// idx:
//   - tof-2zone: one ranging every ToFPeriodMs, zones alternating (z0, z1,
//     z0...), as a VL53L1X re-programmed with the other ROI between rangings;
//   - beam-pair: the changes of beams a and b (both start clear);
//   - pulse: the changes of the counter's in/out lines (door) or pass line
//     (storefront).
func (w *World) Readings(kind sensor.Kind, idx int, dst []sensor.Reading) ([]sensor.Reading, error) {
	switch kind {
	case sensor.KindToF2Zone:
		p := int64(w.cfg.ToFPeriodMs)
		for i := int64(0); i*p < w.cfg.DurationMs; i++ {
			z := int(i & 1)
			t := i * p
			dst = append(dst, sensor.Reading{TMs: t, Sensor: idx, Channel: z, Value: int64(w.ZoneDistance(z, t))})
		}
	case sensor.KindBeamPair:
		dst = appendChanges(dst, idx, []int{0, 1}, w.beams[0], w.beams[1])
	case sensor.KindPulse:
		if w.cfg.Line == Storefront {
			dst = appendChanges(dst, idx, []int{2}, w.pulses[2])
		} else {
			dst = appendChanges(dst, idx, []int{0, 1}, w.pulses[0], w.pulses[1])
		}
	default:
		return dst, fmt.Errorf("sim: kind %s is not simulated (tof-2zone, beam-pair, pulse are)", kind)
	}
	return dst, nil
}

// appendChanges merges the level changes of several channels in time order.
func appendChanges(dst []sensor.Reading, idx int, chans []int, ivs ...[]interval) []sensor.Reading {
	streams := make([][]sensor.Reading, len(ivs))
	for i, iv := range ivs {
		streams[i] = changes(nil, iv, idx, chans[i])
	}
	return mergeReadings(dst, streams...)
}

// changes appends the level changes of one channel high during the sorted
// intervals iv: 1 at each start, 0 at each end.
func changes(dst []sensor.Reading, iv []interval, idx, ch int) []sensor.Reading {
	dst = slices.Grow(dst, 2*len(iv))
	for _, x := range iv {
		dst = append(dst,
			sensor.Reading{TMs: x.start, Sensor: idx, Channel: ch, Value: 1},
			sensor.Reading{TMs: x.end, Sensor: idx, Channel: ch, Value: 0})
	}
	return dst
}

// mergeReadings appends the readings of time-ordered streams to dst in
// time order.
func mergeReadings(dst []sensor.Reading, streams ...[]sensor.Reading) []sensor.Reading {
	eachMerged(streams, func(_ int, r sensor.Reading) error {
		dst = append(dst, r)
		return nil
	})
	return dst
}

// eachMerged calls f with every reading of the time-ordered streams in
// time order, with the index of its stream; at equal times the lower stream
// comes first. It stops at f's first error.
func eachMerged(streams [][]sensor.Reading, f func(stream int, r sensor.Reading) error) error {
	pos := make([]int, len(streams))
	for {
		best := -1
		for i, st := range streams {
			if pos[i] < len(st) && (best < 0 || st[pos[i]].TMs < streams[best][pos[best]].TMs) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		r := streams[best][pos[best]]
		pos[best]++
		if err := f(best, r); err != nil {
			return err
		}
	}
}

// TraceSensor is one sensor of a rendered trace; all watch this world's line.
type TraceSensor struct {
	ID     string
	Kind   sensor.Kind
	Params [][2]string // extra key=value pairs for its header line
}

// WriteTrace renders the world as a trace-v1 file: the header declaring the
// sensors (role from the line), then every reading of every sensor merged in
// time order.
func (w *World) WriteTrace(out io.Writer, start time.Time, sensors ...TraceSensor) error {
	return writeTrace(out, start, traceHeader{
		comment: fmt.Sprintf("simulated scenario %q seed %d", w.cfg.Name, w.cfg.Seed),
		role:    w.Role(),
	}, w, sensors)
}

// traceHeader is what a simulated world declares in its trace beyond each
// sensor's id and kind.
type traceHeader struct {
	comment string      // a comment line naming the scenario
	role    sensor.Role // the role of every sensor
	// defaults are key=value pairs declared for a sensor of the kind before
	// its Params, unless the Params give the key.
	defaults func(kind sensor.Kind) [][2]string
}

// readingsSource is a simulated world that delivers what a driver of a
// kind reads (World, Shelf).
type readingsSource interface {
	Readings(kind sensor.Kind, idx int, dst []sensor.Reading) ([]sensor.Reading, error)
}

// writeTrace renders src as a trace-v1 file: the header, one line per
// sensor, then every reading of every sensor merged in time order.
func writeTrace(out io.Writer, start time.Time, h traceHeader, src readingsSource, sensors []TraceSensor) error {
	if len(sensors) == 0 {
		return fmt.Errorf("sim: WriteTrace: no sensors")
	}
	bw := bufio.NewWriterSize(out, 1<<16)
	fmt.Fprintf(bw, "# edge-agent-trace v1\n# start %s\n", start.UTC().Format(time.RFC3339))
	fmt.Fprintf(bw, "# %s\n", h.comment)
	streams := make([][]sensor.Reading, len(sensors))
	for i, s := range sensors {
		if err := sensor.ValidID(s.ID); err != nil {
			return fmt.Errorf("sim: WriteTrace: %w", err)
		}
		fmt.Fprintf(bw, "# sensor %s kind=%s role=%s", s.ID, s.Kind, h.role)
		if h.defaults != nil {
			for _, kv := range h.defaults(s.Kind) {
				if !hasParam(s.Params, kv[0]) {
					fmt.Fprintf(bw, " %s=%s", kv[0], kv[1])
				}
			}
		}
		for _, kv := range s.Params {
			fmt.Fprintf(bw, " %s=%s", kv[0], kv[1])
		}
		bw.WriteByte('\n')
		var err error
		if streams[i], err = src.Readings(s.Kind, i, nil); err != nil {
			return err
		}
	}
	bw.WriteString("t_ms,sensor,channel,value\n")
	var line []byte
	err := eachMerged(streams, func(i int, r sensor.Reading) error {
		line = strconv.AppendInt(line[:0], r.TMs, 10)
		line = append(line, ',')
		line = append(line, sensors[i].ID...)
		line = append(line, ',')
		line = append(line, sensors[i].Kind.Channels()[r.Channel]...)
		line = append(line, ',')
		line = strconv.AppendInt(line, r.Value, 10)
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

func hasParam(params [][2]string, key string) bool {
	for _, kv := range params {
		if kv[0] == key {
			return true
		}
	}
	return false
}
