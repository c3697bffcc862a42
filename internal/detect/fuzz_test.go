package detect_test

import (
	"encoding/binary"
	"testing"

	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// FuzzDetect feeds arbitrary reading sequences (any channel, any value,
// time never going back) to every people-counting detector: no panic,
// events for this sensor only, in time order, never stamped after the
// reading or Flush that completed them, never more than the readings.
func FuzzDetect(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{25, 0, 0x0a, 0x28, 25, 1, 0x0a, 0x28, 25, 0, 0x03, 0x84, 25, 1, 0x03, 0x84, 25, 0, 0x0a, 0x28})
	f.Add([]byte{10, 0, 0, 1, 40, 1, 0, 1, 100, 0, 0, 0, 30, 1, 0, 0})
	f.Add([]byte{0, 2, 0xff, 0xff, 0, 0, 0xff, 0xff, 255, 1, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []sensor.Kind{sensor.KindToF2Zone, sensor.KindBeamPair, sensor.KindPulse} {
			for _, role := range []sensor.Role{sensor.RoleEntrance, sensor.RolePasserby} {
				spec, err := sensor.NewSpec("s", kind, role, [][2]string{})
				if err != nil {
					t.Fatal(err)
				}
				if kind == sensor.KindToF2Zone {
					spec.Params = map[string]string{"learn_readings": "3"}
				}
				d, err := detect.New(spec, 5)
				if err != nil {
					t.Fatal(err)
				}
				var ev []sensor.Event
				tm, n := int64(0), 0
				check := func(now int64) {
					for i, e := range ev {
						if e.Sensor != 5 || e.TMs > now || (i > 0 && e.TMs < ev[i-1].TMs) {
							t.Fatalf("%s/%s: bad event %d %+v (now %d) in %+v", kind, role, i, e, now, ev)
						}
					}
				}
				data := data
				for len(data) >= 4 {
					tm += int64(data[0])
					v := int64(int16(binary.BigEndian.Uint16(data[2:4])))
					ev = d.Feed(sensor.Reading{TMs: tm, Sensor: 5, Channel: int(data[1]%4) - 1, Value: v}, ev)
					check(tm)
					data = data[4:]
					n++
				}
				tm += 200000
				ev = d.Flush(tm, ev)
				check(tm)
				if len(ev) > n {
					t.Fatalf("%s/%s: %d events from %d readings", kind, role, len(ev), n)
				}
				if h := d.(detect.HealthReporter).Health(); h.InvalidShare < 0 || h.InvalidShare > 1 {
					t.Fatalf("invalid share %v", h.InvalidShare)
				}
			}
		}
	})
}
