package trace

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

func mustSpec(t testing.TB, id string, k sensor.Kind, r sensor.Role, kv ...[2]string) sensor.Spec {
	t.Helper()
	s, err := sensor.NewSpec(id, k, r, kv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testHeader(t testing.TB) Header {
	return Header{
		Start: time.Date(2026, 3, 2, 9, 0, 0, 123e6, time.UTC),
		Sensors: []sensor.Spec{
			mustSpec(t, "door", sensor.KindToF2Zone, sensor.RoleEntrance, [2]string{"baseline_z0_mm", "2400"}, [2]string{"threshold_mm", "1500"}),
			mustSpec(t, "street", sensor.KindPulse, sensor.RolePasserby, [2]string{"counts_entrants", "false"}),
			mustSpec(t, "shelf-a", sensor.KindToFPresence, sensor.RoleShelf, [2]string{"dwell_min_ms", "4500"}),
			mustSpec(t, "pir.1", sensor.KindPIR, sensor.RoleShelf),
			mustSpec(t, "plate_1", sensor.KindNFCPlate, sensor.RolePlate, [2]string{"shelf", "shelf-a"}),
			mustSpec(t, "reader", sensor.KindNFCReader, sensor.RoleCheckin, [2]string{"repeat_ms", "0"}),
			mustSpec(t, "street2", sensor.KindBeamPair, sensor.RolePasserby),
		},
	}
}

// Writer -> Reader gives back the header and every reading.
func TestRoundTrip(t *testing.T) {
	h := testHeader(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var want []sensor.Reading
	var tMs int64
	for i := 0; i < 5000; i++ {
		tMs += rng.Int64N(3)
		si := rng.IntN(len(h.Sensors))
		k := h.Sensors[si].Kind
		r := sensor.Reading{TMs: tMs, Sensor: si, Channel: rng.IntN(len(k.Channels()))}
		switch classOf(k) {
		case classToken:
			r.Token = make([]byte, 1+rng.IntN(10))
			for j := range r.Token {
				r.Token[j] = byte(rng.Uint32())
			}
		case classLevel:
			r.Value = rng.Int64N(2)
		case classDistance:
			r.Value = rng.Int64N(4000) - 1
		}
		want = append(want, r)
	}
	want = append(want, sensor.Reading{TMs: 1<<63 - 1, Value: 1<<63 - 1})

	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range want {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, rds, err := readAll(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Start.Equal(h.Start) {
		t.Errorf("Start %v, want %v", got.Start, h.Start)
	}
	if len(got.Sensors) != len(h.Sensors) {
		t.Fatalf("%d sensors back, want %d", len(got.Sensors), len(h.Sensors))
	}
	for i := range h.Sensors {
		if !specEqual(got.Sensors[i], h.Sensors[i]) {
			t.Errorf("sensor %d back as %+v, want %+v", i, got.Sensors[i], h.Sensors[i])
		}
		if got.SensorLines[i] != 3+i {
			t.Errorf("sensor %d on line %d, want %d", i, got.SensorLines[i], 3+i)
		}
	}
	assertReadings(t, rds, want)
	if !strings.Contains(buf.String(), "\n# sensor door kind=tof-2zone role=entrance baseline_z0_mm=2400 threshold_mm=1500\n") {
		t.Errorf("door line not written canonically:\n%s", buf.String()[:400])
	}
}

func specEqual(a, b sensor.Spec) bool {
	if a.ID != b.ID || a.Kind != b.Kind || a.Role != b.Role || a.DwellMinMs != b.DwellMinMs ||
		a.RepeatMs != b.RepeatMs || a.CountsEntrants != b.CountsEntrants || a.Shelf != b.Shelf || len(a.Params) != len(b.Params) {
		return false
	}
	for k, v := range a.Params {
		if b.Params[k] != v {
			return false
		}
	}
	return true
}

func TestWriterRejectsBadReadings(t *testing.T) {
	h := testHeader(t)
	for name, r := range map[string]sensor.Reading{
		"sensor index":    {Sensor: 7},
		"negative sensor": {Sensor: -1},
		"channel":         {Sensor: 0, Channel: 2},
		"negative t":      {TMs: -1},
		"level":           {Sensor: 3, Value: 2},
		"distance":        {Sensor: 2, Value: -2},
		"empty token":     {Sensor: 5},
	} {
		w, err := NewWriter(new(bytes.Buffer), h)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(r); err == nil {
			t.Errorf("%s: Write(%+v) = nil, want error", name, r)
		}
	}
	w, _ := NewWriter(new(bytes.Buffer), h)
	if err := w.Write(sensor.Reading{TMs: 10}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sensor.Reading{TMs: 9}); err == nil {
		t.Error("decreasing t_ms accepted")
	}
}

func TestWriterRejectsBadHeaders(t *testing.T) {
	good := testHeader(t)
	for name, mod := range map[string]func(h *Header){
		"zero start":   func(h *Header) { h.Start = time.Time{} },
		"duplicate id": func(h *Header) { h.Sensors[1].ID = "door" },
		"bad id":       func(h *Header) { h.Sensors[0].ID = "a b" },
		"unknown kind": func(h *Header) { h.Sensors[0].Kind = "lidar" },
		"param space":  func(h *Header) { h.Sensors[0].Params = map[string]string{"k": "a b"} },
		"param eq":     func(h *Header) { h.Sensors[0].Params = map[string]string{"a=b": "1"} },
		"param role":   func(h *Header) { h.Sensors[0].Params = map[string]string{"shelf": "x"} },
		"bad dwell":    func(h *Header) { h.Sensors[2].DwellMinMs = 0 },
		"lost shelf":   func(h *Header) { h.Sensors[4].Shelf = "nowhere" },
	} {
		h := testHeader(t)
		h.Sensors = append([]sensor.Spec(nil), good.Sensors...)
		mod(&h)
		if _, err := NewWriter(new(bytes.Buffer), h); err == nil {
			t.Errorf("%s: NewWriter accepted it", name)
		}
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("full") }

func TestWriterStickyIOError(t *testing.T) {
	w, err := NewWriter(errWriter{}, testHeader(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush to a failing writer = nil")
	}
	if err := w.Write(sensor.Reading{}); err == nil {
		t.Error("Write after a failed Flush = nil")
	}
}
