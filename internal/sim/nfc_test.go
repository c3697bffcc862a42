package sim_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
	"github.com/omo-edge/edge-agent/internal/trace"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func nfcWorld(t testing.TB, name string, seed uint64) *sim.NFCWorld {
	t.Helper()
	cfg, err := sim.NFCScenario(name, seed)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sim.NewNFCWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func render(t testing.TB, w *sim.NFCWorld) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := w.WriteTrace(&b, t0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNFCDeterministic(t *testing.T) {
	a := render(t, nfcWorld(t, "nfc-mixed-hour", 7))
	b := render(t, nfcWorld(t, "nfc-mixed-hour", 7))
	c := render(t, nfcWorld(t, "nfc-mixed-hour", 8))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different traces")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same trace")
	}
}

// The rendered trace reads back as trace-v1, with the sensors declared as
// the contract says and readings in time order; tokens are 16-byte
// pseudonyms, never a 7-byte card UID.
func TestNFCTraceReadsBack(t *testing.T) {
	w := nfcWorld(t, "nfc-mixed-hour", 1)
	text := render(t, w)
	if !bytes.Contains(text, []byte("# sensor plate-1 kind=nfc-plate role=plate\n")) ||
		!bytes.Contains(text, []byte("# sensor reader kind=nfc-reader role=checkin\n")) {
		t.Fatalf("header:\n%s", text[:400])
	}
	rd, err := trace.NewReader(bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	h := rd.Header()
	if len(h.Sensors) != w.Config().Plates+1 {
		t.Fatalf("%d sensors", len(h.Sensors))
	}
	var r sensor.Reading
	var polls, changes int64
	level := make([]int64, w.Config().Plates)
	for {
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Sensors[r.Sensor].Kind == sensor.KindNFCReader {
			polls++
			if len(r.Token) != 16 {
				t.Fatalf("token of %d bytes", len(r.Token))
			}
			continue
		}
		if r.TMs == w.Config().DurationMs {
			if r.Value != 0 {
				t.Fatalf("plate %d: closing reading %d", r.Sensor, r.Value)
			}
			continue // the recorder's last look: the field is off
		}
		changes++
		if r.Value == level[r.Sensor] {
			t.Fatalf("plate %d: field %d twice in a row at %d: only changes are listed", r.Sensor, r.Value, r.TMs)
		}
		level[r.Sensor] = r.Value
	}
	for p, l := range level {
		if l != 0 {
			t.Fatalf("plate %d ends with the field on", p)
		}
	}
	tr := w.Truth()
	if polls != tr.Polls {
		t.Fatalf("%d token lines, truth says %d polls", polls, tr.Polls)
	}
	// Each tap is at least one on/off pair.
	if changes < 2*tr.TotalTaps() {
		t.Fatalf("%d field changes for %d taps", changes, tr.TotalTaps())
	}
}

// The scenarios stress what they say they stress.
func TestNFCScenarioShapes(t *testing.T) {
	plain := nfcWorld(t, "nfc-flicker", 1)
	var rs []sensor.Reading
	rs = plain.Readings(rs)
	var changes int64
	for _, r := range rs {
		if r.Sensor < plain.Config().Plates {
			changes++
		}
	}
	if tr := plain.Truth(); changes < 4*tr.TotalTaps() {
		t.Errorf("flicker: %d changes for %d taps: too little flicker", changes, tr.TotalTaps())
	}
	polls := nfcWorld(t, "nfc-repeated-polls", 1).Truth()
	if polls.Polls < 20*polls.Checkins {
		t.Errorf("repeated polls: %d polls for %d check-ins", polls.Polls, polls.Checkins)
	}
	rv := nfcWorld(t, "nfc-repeat-visits", 1).Truth()
	if rv.Presentations < rv.Checkins*5/4 {
		t.Errorf("repeat visits: %d presentations for %d check-ins", rv.Presentations, rv.Checkins)
	}
	nm := nfcWorld(t, "nfc-near-misses", 1).Truth()
	var misses int64
	for _, n := range nm.NearMisses {
		misses += n
	}
	if misses < nm.TotalTaps()/2 {
		t.Errorf("near misses: %d for %d taps", misses, nm.TotalTaps())
	}
}

func TestNFCConfigErrors(t *testing.T) {
	if _, err := sim.NFCScenario("nope", 1); err == nil || !strings.Contains(err.Error(), "nfc-mixed-hour") {
		t.Fatalf("unknown scenario: %v", err)
	}
	for _, c := range []struct {
		set  func(*sim.NFCConfig)
		want string
	}{
		{func(c *sim.NFCConfig) { c.PFlicker = 1.5 }, "PFlicker"},
		{func(c *sim.NFCConfig) { c.HoldMaxMs = 10 }, "HoldMinMs"},
		{func(c *sim.NFCConfig) { c.TailMs = c.DurationMs }, "TailMs"},
		{func(c *sim.NFCConfig) { c.PollMs = 0 }, "PollMs"},
		{func(c *sim.NFCConfig) { c.VisitsPerMin = -1 }, "VisitsPerMin"},
		{func(c *sim.NFCConfig) { c.PMissPoll = 0.95 }, "PMissPoll"},
	} {
		cfg := sim.DefaultNFCConfig()
		c.set(&cfg)
		if _, err := sim.NewNFCWorld(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want it to name %s", err, c.want)
		}
	}
	for _, n := range sim.NFCScenarioNames() {
		if sim.NFCScenarioDoc(n) == "" {
			t.Errorf("%s: no doc", n)
		}
	}
}

func BenchmarkNFCWorld(b *testing.B) {
	cfg, _ := sim.NFCScenario("nfc-mixed-hour", 1)
	b.ReportAllocs()
	for b.Loop() {
		w, err := sim.NewNFCWorld(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.WriteTrace(io.Discard, t0); err != nil {
			b.Fatal(err)
		}
	}
}
