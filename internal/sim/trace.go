package sim

import (
	"bufio"
	"fmt"
	"io"
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
	pos := make([]int, len(ivs)) // 2*interval index + (0 start, 1 end)
	for {
		best, bestT := -1, int64(0)
		for i, iv := range ivs {
			if pos[i] >= 2*len(iv) {
				continue
			}
			x := iv[pos[i]/2]
			t := x.start
			if pos[i]%2 == 1 {
				t = x.end
			}
			if best < 0 || t < bestT {
				best, bestT = i, t
			}
		}
		if best < 0 {
			return dst
		}
		v := int64(1 - pos[best]%2)
		dst = append(dst, sensor.Reading{TMs: bestT, Sensor: idx, Channel: chans[best], Value: v})
		pos[best]++
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
	if len(sensors) == 0 {
		return fmt.Errorf("sim: WriteTrace: no sensors")
	}
	bw := bufio.NewWriterSize(out, 1<<16)
	fmt.Fprintf(bw, "# edge-agent-trace v1\n# start %s\n", start.UTC().Format(time.RFC3339))
	fmt.Fprintf(bw, "# simulated scenario %q seed %d\n", w.cfg.Name, w.cfg.Seed)
	streams := make([][]sensor.Reading, len(sensors))
	for i, s := range sensors {
		if err := sensor.ValidID(s.ID); err != nil {
			return fmt.Errorf("sim: WriteTrace: %w", err)
		}
		fmt.Fprintf(bw, "# sensor %s kind=%s role=%s", s.ID, s.Kind, w.Role())
		for _, kv := range s.Params {
			fmt.Fprintf(bw, " %s=%s", kv[0], kv[1])
		}
		bw.WriteByte('\n')
		var err error
		if streams[i], err = w.Readings(s.Kind, i, nil); err != nil {
			return err
		}
	}
	bw.WriteString("t_ms,sensor,channel,value\n")
	pos := make([]int, len(streams))
	var line []byte
	for {
		best := -1
		for i, st := range streams {
			if pos[i] < len(st) && (best < 0 || st[pos[i]].TMs < streams[best][pos[best]].TMs) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		r := streams[best][pos[best]]
		pos[best]++
		line = strconv.AppendInt(line[:0], r.TMs, 10)
		line = append(line, ',')
		line = append(line, sensors[best].ID...)
		line = append(line, ',')
		line = append(line, sensors[best].Kind.Channels()[r.Channel]...)
		line = append(line, ',')
		line = strconv.AppendInt(line, r.Value, 10)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
