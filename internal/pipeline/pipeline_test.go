package pipeline

import (
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

func newBeamPipeline(t *testing.T) *Pipeline {
	t.Helper()
	s, err := sensor.NewSpec("door", sensor.KindBeamPair, sensor.RoleEntrance, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New([]sensor.Spec{s}, aggregate.Options{Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// walkIn feeds one clean entry through the beams starting at t (ms).
func walkIn(p *Pipeline, t int64) (closed []aggregate.Window) {
	for _, r := range []sensor.Reading{
		{TMs: t, Channel: 0, Value: 1},
		{TMs: t + 150, Channel: 1, Value: 1},
		{TMs: t + 400, Channel: 0, Value: 0},
		{TMs: t + 550, Channel: 1, Value: 0},
	} {
		closed = append(closed, p.Feed(r)...)
	}
	return closed
}

var nine = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixMilli()

// Before the clock is trusted, events wait with their monotonic times and
// land in the windows of those times once an anchor is known.
func TestEventsHeldUntilAnchored(t *testing.T) {
	p := newBeamPipeline(t)
	if ws := walkIn(p, 10_000); len(ws) != 0 {
		t.Fatalf("windows before any anchor: %+v", ws)
	}
	walkIn(p, 70_000)
	if ws := p.Advance(200_000); len(ws) != 0 {
		t.Fatalf("windows before any anchor: %+v", ws)
	}
	// NTP arrives: t_ms 0 was 09:00:00.
	ws := append([]aggregate.Window(nil), p.SetAnchor(nine)...)
	ws = append(ws, p.Advance(200_000)...)
	if len(ws) != 3 || ws[0].Start != nine || ws[0].Sensors[0].Entries != 1 || ws[1].Start != nine+60_000 || ws[1].Sensors[0].Entries != 1 || ws[2].Sensors[0].Entries != 0 {
		t.Fatalf("held entries not in their own windows: %+v", ws)
	}
}

// A clock stepped back never reopens a reported window and loses no count;
// a clock stepped forward makes no empty windows for the jump.
func TestClockStepsNeitherLoseNorInvent(t *testing.T) {
	p := newBeamPipeline(t)
	p.SetAnchor(nine)
	var ws []aggregate.Window
	ws = append(ws, walkIn(p, 10_000)...)
	ws = append(ws, p.Advance(65_000)...) // 09:01:05: 09:00 closed
	// The clock steps back 30 minutes.
	ws = append(ws, p.SetAnchor(nine-30*60_000)...)
	ws = append(ws, walkIn(p, 70_000)...) // would be 08:31:10
	ws = append(ws, p.Advance(130_000)...)
	// And forward three hours.
	ws = append(ws, p.SetAnchor(nine+3*3600_000)...)
	ws = append(ws, walkIn(p, 140_000)...)
	ws = append(ws, p.Close(200_000)...)
	var entries int64
	for i, w := range ws {
		entries += w.Sensors[0].Entries
		if i > 0 && w.Start < ws[i-1].End {
			t.Fatalf("window %d starts at %s, before the previous one ended (%s)", i,
				time.UnixMilli(w.Start).UTC(), time.UnixMilli(ws[i-1].End).UTC())
		}
	}
	if entries != 3 {
		t.Fatalf("%d entries reported, 3 happened", entries)
	}
	if len(ws) > 4 {
		t.Fatalf("%d windows for 3.3 minutes of running: the jump made empty windows", len(ws))
	}
}

// In a trace, a beam pair's last crossing before a quiet spell is dated
// when it happened, not at the beam's next change minutes later, because
// other sensors' readings move time on.
func TestFlushEveryDatesQuietSensorsEvents(t *testing.T) {
	door, _ := sensor.NewSpec("door", sensor.KindBeamPair, sensor.RoleEntrance, nil)
	street, _ := sensor.NewSpec("street", sensor.KindBeamPair, sensor.RolePasserby, nil)
	p, err := New([]sensor.Spec{door, street}, aggregate.Options{Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p.FlushEvery(100)
	p.SetAnchor(nine)
	var ws []aggregate.Window
	ws = append(ws, walkIn(p, 59_000)...) // ends 09:00:59.55
	// Only the street sensor reports from now on, into the next minute.
	for ts := int64(59_600); ts < 125_000; ts += 5000 {
		ws = append(ws, p.Feed(sensor.Reading{TMs: ts, Sensor: 1, Channel: 0, Value: ts / 5000 % 2})...)
	}
	if len(ws) < 1 || ws[0].Start != nine || ws[0].Sensors[0].Entries != 1 {
		t.Fatalf("the 09:00 entry was not counted in the 09:00 window: %+v", ws)
	}
}

// A crossing whose last change is the trace's last reading still counts,
// in the trace's last window.
func TestCloseCompletesTheLastCrossing(t *testing.T) {
	p := newBeamPipeline(t)
	p.SetAnchor(nine)
	ws := walkIn(p, 58_000) // last reading at 58.55 s
	ws = append(ws, p.Close(58_550)...)
	if len(ws) != 1 || ws[0].Start != nine || ws[0].Sensors[0].Entries != 1 {
		t.Fatalf("last crossing: %+v", ws)
	}
}

// Without a wall clock for ever, held events are bounded: the oldest are
// dropped and counted, the newest kept.
func TestHeldEventsBounded(t *testing.T) {
	p := newBeamPipeline(t)
	var tm int64
	for i := 0; i < maxHeld+maxHeld/4; i++ {
		p.evs = append(p.evs[:0], sensor.Event{TMs: tm, Type: sensor.Entry})
		p.count(tm)
		tm++
	}
	if len(p.held) > maxHeld || p.HeldLost() == 0 || int64(len(p.held))+p.HeldLost() != int64(maxHeld+maxHeld/4) {
		t.Fatalf("held %d, lost %d", len(p.held), p.HeldLost())
	}
	if last := p.held[len(p.held)-1].TMs; last != tm-1 {
		t.Fatalf("newest held event at %d, want %d", last, tm-1)
	}
}
