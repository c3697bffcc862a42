package aggregate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

func specs(t *testing.T) []sensor.Spec {
	t.Helper()
	mk := func(id string, k sensor.Kind, r sensor.Role, kv ...[2]string) sensor.Spec {
		s, err := sensor.NewSpec(id, k, r, kv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return []sensor.Spec{
		mk("door", sensor.KindToF2Zone, sensor.RoleEntrance),
		mk("street", sensor.KindBeamPair, sensor.RolePasserby),
		mk("shelf-a", sensor.KindToFPresence, sensor.RoleShelf),
		mk("plate-1", sensor.KindNFCPlate, sensor.RolePlate, [2]string{"shelf", "shelf-a"}),
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixMilli()

func ev(sensorIdx int, typ sensor.EventType) sensor.Event {
	return sensor.Event{Sensor: sensorIdx, Type: typ}
}

func TestWindowsAlignedAndClosedInOrder(t *testing.T) {
	a, err := New(specs(t), Options{Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var ws []Window
	ws = a.Add(ev(0, sensor.Entry), t0+15_000, ws) // 09:00:15
	ws = a.Add(ev(1, sensor.Passerby), t0+30_000, ws)
	ws = a.Add(ev(0, sensor.Entry), t0+61_000, ws) // 09:01:01 closes 09:00
	if len(ws) != 1 || ws[0].Start != t0 || ws[0].End != t0+60_000 {
		t.Fatalf("closed %+v, want the 09:00 window", ws)
	}
	if ws[0].Sensors[0].Entries != 1 || ws[0].Sensors[1].Passersby != 1 {
		t.Fatalf("counts %+v", ws[0].Sensors)
	}
	ws = a.Advance(t0+119_999, ws[:0])
	if len(ws) != 0 {
		t.Fatalf("window closed early: %+v", ws)
	}
	ws = a.Advance(t0+120_000, ws)
	if len(ws) != 1 || ws[0].Start != t0+60_000 || ws[0].Sensors[0].Entries != 1 {
		t.Fatalf("second window %+v", ws)
	}
}

func TestGapLeavesOutEmptyWindowsAndClockStepBackNeverReopens(t *testing.T) {
	a, _ := New(specs(t), Options{Window: time.Minute})
	var ws []Window
	ws = a.Add(ev(0, sensor.Entry), t0+1000, ws)
	ws = a.Add(ev(0, sensor.Entry), t0+3*3600_000, ws) // three hours later
	if len(ws) != 1 {
		t.Fatalf("a gap made %d windows, want only the one that had events", len(ws))
	}
	// The clock steps back an hour: the event lands in the open window.
	ws = a.Add(ev(0, sensor.Exit), t0+2*3600_000, ws[:0])
	ws = a.Close(ws)
	if len(ws) != 1 || ws[0].Start != t0+3*3600_000 || ws[0].Sensors[0].Entries != 1 || ws[0].Sensors[0].Exits != 1 {
		t.Fatalf("after a step back: %+v", ws)
	}
	// And a new window never starts before the closed one ended.
	ws = a.Add(ev(0, sensor.Entry), t0, ws[:0])
	ws = a.Close(ws)
	if ws[0].Start < t0+3*3600_000+60_000 {
		t.Fatalf("reopened the past: window at %d", ws[0].Start)
	}
}

func TestOccupancyNeverNegativeAndResetsAtClosing(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	a, err := New(specs(t), Options{Window: time.Minute, ClosingTime: "22:00", Location: tokyo})
	if err != nil {
		t.Fatal(err)
	}
	// 09:00 UTC = 18:00 JST.
	var ws []Window
	ws = a.Add(ev(0, sensor.Exit), t0, ws)
	if a.Occupancy() != 0 {
		t.Fatalf("occupancy went below zero: %d", a.Occupancy())
	}
	for i := 0; i < 3; i++ {
		ws = a.Add(ev(0, sensor.Entry), t0+int64(i), ws)
	}
	ws = a.Advance(t0+60_000, ws)
	if ws[len(ws)-1].Occupancy != 3 {
		t.Fatalf("occupancy %d, want 3", ws[len(ws)-1].Occupancy)
	}
	// 22:00 JST = 13:00 UTC, four hours later.
	ws = a.Add(ev(0, sensor.Entry), t0+4*3600_000+30_000, ws[:0])
	if a.Occupancy() != 1 {
		t.Fatalf("occupancy after closing time %d, want 1 (reset then one entry)", a.Occupancy())
	}
}

func TestSnapshotRestoreKeepsOpenWindow(t *testing.T) {
	sp := specs(t)
	a, _ := New(sp, Options{Window: time.Minute})
	a.Add(ev(0, sensor.Entry), t0+1000, nil)
	a.Add(sensor.Event{Sensor: 2, Type: sensor.StopBy, DwellMs: 4200}, t0+2000, nil)
	snap := a.Snapshot()

	b, _ := New(sp, Options{Window: time.Minute})
	if dropped, err := b.Restore(snap); err != nil || len(dropped) != 0 {
		t.Fatalf("restore: %v %v", dropped, err)
	}
	ws := b.Add(ev(0, sensor.Entry), t0+3000, nil)
	ws = b.Close(ws)
	if len(ws) != 1 || ws[0].Sensors[0].Entries != 2 || ws[0].Sensors[2].StopBys != 1 || ws[0].Sensors[2].Dwells[0] != 4200 {
		t.Fatalf("restored window %+v", ws)
	}
	if b.Occupancy() != 2 {
		t.Fatalf("occupancy %d", b.Occupancy())
	}
	// A sensor removed from the config is reported, not silently kept.
	c, _ := New(sp[1:], Options{Window: time.Minute})
	dropped, err := c.Restore(snap)
	if err != nil || len(dropped) != 1 || dropped[0] != "door" {
		t.Fatalf("dropped %v %v", dropped, err)
	}
	if _, err := c.Restore([]byte("{garbage")); err == nil {
		t.Fatal("garbage state accepted")
	}
}

func TestMessagesAndRates(t *testing.T) {
	sp := specs(t)
	enc := NewEncoder(Identity{Store: "s1", Agent: "pi"}, sp)
	w := Window{Start: t0, End: t0 + 60_000, Sensors: make([]Counts, len(sp)), Occupancy: 2}
	w.Sensors[0] = Counts{Entries: 3, Exits: 1}
	w.Sensors[1] = Counts{Passersby: 12}
	w.Sensors[2] = Counts{StopBys: 2, Dwells: []int64{4000, 9000}}
	w.Sensors[3] = Counts{Taps: 1}

	got := string(enc.SensorWindow(nil, &w, 0, 7))
	want := `{"v":1,"type":"sensor_window","id":"s1/pi/door/1772442000","seq":7,"store":"s1","agent":"pi","sensor":"door","kind":"tof-2zone","role":"entrance","window_start":"2026-03-02T09:00:00Z","window_end":"2026-03-02T09:01:00Z","entries":3,"exits":1}`
	if got != want {
		t.Fatalf("sensor window\n got %s\nwant %s", got, want)
	}
	st := enc.StoreWindow(nil, &w, 8)
	var m map[string]any
	if err := json.Unmarshal(st, &m); err != nil {
		t.Fatalf("store window is not JSON: %v\n%s", err, st)
	}
	if m["entry_rate"] != 0.25 || m["occupancy"] != 2.0 {
		t.Fatalf("store window %s", st)
	}
	if m["stop_by_rate"].(map[string]any)["shelf-a"] != 0.6667 || m["tap_rate"].(map[string]any)["plate-1"] != 0.5 {
		t.Fatalf("rates %s", st)
	}
	sh := string(enc.SensorWindow(nil, &w, 2, 9))
	if !strings.Contains(sh, `"stop_bys":2,"dwell_p50_ms":4000,"dwell_p90_ms":9000`) {
		t.Fatalf("shelf window %s", sh)
	}
	// No passers-by: the entry rate is null, not a division by zero.
	w.Sensors[1] = Counts{}
	if !strings.Contains(string(enc.StoreWindow(nil, &w, 10)), `"entry_rate":null`) {
		t.Fatal("entry_rate with no passers-by is not null")
	}
}

func TestEntryRateWhenPasserbyLineMissesEntrants(t *testing.T) {
	sp := specs(t)
	if err := sp[1].Set("counts_entrants", "false"); err != nil {
		t.Fatal(err)
	}
	cs := make([]Counts, len(sp))
	cs[0].Entries, cs[1].Passersby = 5, 15
	if r := ComputeRates(sp, cs); r.EntryRate == nil || *r.EntryRate != 0.25 {
		t.Fatalf("entry rate %v, want 5/(5+15)", r.EntryRate)
	}
}

func TestPercentilesNearestRank(t *testing.T) {
	ds := []int64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}
	p50, p90, ok := Percentiles(ds)
	if !ok || p50 != 5 || p90 != 9 {
		t.Fatalf("p50 %d p90 %d", p50, p90)
	}
	if _, _, ok := Percentiles(nil); ok {
		t.Fatal("percentiles of nothing")
	}
}

func TestCheckRatesRejectsBadShelfReference(t *testing.T) {
	sp := specs(t)
	sp[3].Shelf = "nowhere"
	if _, err := New(sp, Options{}); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("unknown shelf: %v", err)
	}
	sp[3].Shelf = "door"
	if _, err := New(sp, Options{}); err == nil || !strings.Contains(err.Error(), "not shelf") {
		t.Fatalf("shelf that is a door: %v", err)
	}
	if _, err := New(specs(t), Options{ClosingTime: "25:00"}); err == nil {
		t.Fatal("closing_time 25:00 accepted")
	}
	if _, err := New(specs(t), Options{Window: 1500 * time.Millisecond}); err == nil {
		t.Fatal("window 1.5s accepted")
	}
}

func TestSummaryJSON(t *testing.T) {
	sp := specs(t)
	s := NewSummary(sp)
	w := Window{Start: t0, End: t0 + 60_000, Sensors: make([]Counts, len(sp))}
	w.Sensors[0] = Counts{Entries: 4, Exits: 2}
	w.Sensors[1] = Counts{Passersby: 8}
	s.Add(&w)
	w2 := Window{Start: t0 + 60_000, End: t0 + 120_000, Sensors: make([]Counts, len(sp))}
	w2.Sensors[2] = Counts{StopBys: 1, Dwells: []int64{5000}}
	s.Add(&w2)
	got := string(s.AppendJSON(nil, 0, 0))
	want := `{"type":"summary","start":"2026-03-02T09:00:00Z","end":"2026-03-02T09:02:00Z","sensors":{"door":{"entries":4,"exits":2},"street":{"passersby":8},"shelf-a":{"stop_bys":1,"dwell_p50_ms":5000,"dwell_p90_ms":5000},"plate-1":{"taps":0}},"entry_rate":0.5,"stop_by_rate":{"shelf-a":0.25},"tap_rate":{"plate-1":0}}`
	if got != want {
		t.Fatalf("summary\n got %s\nwant %s", got, want)
	}
}

// A stall across a window boundary (the process did not run for a moment)
// still reports the windows it lived through, with zeros; a restart or a
// clock jump does not invent windows.
func TestShortStallFillsLongGapDoesNot(t *testing.T) {
	a, _ := New(specs(t), Options{Window: time.Second})
	ws := a.Advance(t0+100, nil)
	ws = a.Add(ev(0, sensor.Entry), t0+500, ws)
	ws = a.Advance(t0+2300, ws) // stalled from 0.5 s to 2.3 s
	if len(ws) != 2 || ws[0].Start != t0 || ws[1].Start != t0+1000 || ws[1].Sensors[0].Entries != 0 {
		t.Fatalf("stall: %+v", ws)
	}
	ws = a.Advance(t0+3600_000, ws[:0]) // an hour later: a jump, not a stall
	if len(ws) != 1 {
		t.Fatalf("a jump made %d windows, want only the open one closed", len(ws))
	}
	// A fresh aggregator (a restart) restored mid-window does not fill the
	// time it was off.
	b, _ := New(specs(t), Options{Window: time.Second})
	if _, err := b.Restore(a.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if ws := b.Advance(t0+3600_000+2500, nil); len(ws) != 1 {
		t.Fatalf("restart filled %d windows", len(ws))
	}
}
