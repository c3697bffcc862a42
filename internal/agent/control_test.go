package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// scriptedBeams is a beam pair that walks people through once gate is
// closed: entries (a then b) and exits (b then a), 800 ms apart.
type scriptedBeams struct {
	gate  <-chan struct{}
	walks []bool // true: entry
}

func (s *scriptedBeams) Run(ctx context.Context, emit Emit) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil
	}
	base := time.Now()
	for k, in := range s.walks {
		first, second := 0, 1
		if !in {
			first, second = 1, 0
		}
		t := base.Add(time.Duration(k) * 800 * time.Millisecond)
		for _, st := range []struct {
			ch   int
			v    int64
			offs time.Duration
		}{{first, 1, 0}, {second, 1, 150 * time.Millisecond}, {first, 0, 400 * time.Millisecond}, {second, 0, 550 * time.Millisecond}} {
			at := t.Add(st.offs)
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return nil
				}
			}
			emit(st.ch, st.v, nil, at)
		}
	}
	<-ctx.Done()
	return nil
}

const scriptedYAML = `store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
log_level: warn
window: 1s
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: tcp://127.0.0.1:1
  backoff_min: 100ms
  backoff_max: 500ms
buffer:
  flush_interval: 200ms
sensors:
  - id: door
    kind: beam-pair
    role: entrance
    pins: {a: SIM_A, b: SIM_B}
  - id: street
    kind: beam-pair
    role: passerby
    pins: {a: SIM_C, b: SIM_D}
`

// runScripted runs an agent whose door and street sensors walk the given
// people through once gate is closed.
func runScripted(t *testing.T, gate <-chan struct{}, door, street []bool) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := loadConfig(t, fmt.Sprintf(scriptedYAML, dir, dir+"/status.sock"))
	open := func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
		if sc.ID == "door" {
			return &scriptedBeams{gate: gate, walks: door}, nil
		}
		return &scriptedBeams{gate: gate, walks: street}, nil
	}
	a, err := New(cfg, slog.New(slog.DiscardHandler), Options{Version: "test", OpenSource: open})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	})
	waitFor(t, "the status socket", 5*time.Second, func() bool {
		_, err := QueryStatus(cfg.StatusSocket, time.Second)
		return err == nil
	})
	return cfg
}

// The stream carries the header, every reading and exactly the events the
// daemon counted, and status lines, while status keeps answering.
func TestStreamReadingsEventsStatus(t *testing.T) {
	gate := make(chan struct{})
	cfg := runScripted(t, gate, []bool{true, true, false, true}, []bool{true, false, true})
	s, err := Subscribe(cfg.StatusSocket, StreamRequest{}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.Header()
	if h.Start.IsZero() || len(h.Sensors) != 2 || h.Sensors[0].ID != "door" || strings.Join(h.Sensors[0].Channels, ",") != "a,b" || h.Sensors[1].Role != "passerby" {
		t.Fatalf("header %+v", h)
	}
	if sp, err := h.Sensors[1].Spec(); err != nil || sp.Kind != sensor.KindBeamPair || sp.Role != sensor.RolePasserby {
		t.Fatalf("spec from header: %+v %v", sp, err)
	}
	close(gate)

	readings := map[string]int{}
	events := map[string]int{}
	var statuses, windows int
	var lastDropped uint64
	deadline := time.Now().Add(15 * time.Second)
	var l StreamLine
	for events["door/entry"]+events["door/exit"]+events["street/passerby"] < 7 || statuses < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("stream after 15s: readings %v events %v statuses %d", readings, events, statuses)
		}
		if err := s.Next(&l); err != nil {
			t.Fatal(err)
		}
		switch l.Type {
		case "reading":
			if l.TMs < h.TMs-100 || (l.Value != 0 && l.Value != 1) {
				t.Fatalf("reading %+v (header t_ms %d)", l, h.TMs)
			}
			readings[l.Sensor]++
		case "event":
			events[l.Sensor+"/"+l.Event]++
		case "status":
			statuses++
			lastDropped = l.Dropped
			if l.Status == nil || len(l.Status.Sensors) != 2 || len(l.Detectors) != 2 || !l.Detectors[0].Learned {
				t.Fatalf("status line %+v", l)
			}
		case "window":
			windows++
		}
	}
	// A little longer: nothing more than happened may be reported.
	end := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(end) {
		_ = s.c.SetReadDeadline(end)
		if s.Next(&l) != nil {
			break
		}
		if l.Type == "event" {
			events[l.Sensor+"/"+l.Event]++
		}
	}
	want := map[string]int{"door/entry": 3, "door/exit": 1, "street/passerby": 3}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	if readings["door"] != 16 || readings["street"] != 12 {
		t.Fatalf("readings %v, want door 16 street 12", readings)
	}
	if lastDropped != 0 || windows == 0 {
		t.Fatalf("dropped %d, windows %d", lastDropped, windows)
	}
	if _, err := QueryStatus(cfg.StatusSocket, time.Second); err != nil {
		t.Fatalf("status while streaming: %v", err)
	}
}

// An unknown sensor or stream part is refused with the known ones named.
func TestStreamRefusesUnknownSensor(t *testing.T) {
	cfg := runScripted(t, make(chan struct{}), nil, nil)
	_, err := Subscribe(cfg.StatusSocket, StreamRequest{Sensors: []string{"door", "dor"}}, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), `unknown sensor "dor" (known: door, street)`) {
		t.Fatalf("err %v", err)
	}
	_, err = Subscribe(cfg.StatusSocket, StreamRequest{What: []string{"readings", "gossip"}}, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), `unknown stream part "gossip"`) {
		t.Fatalf("err %v", err)
	}
	// Only door's readings for a door subscriber.
	s, err := Subscribe(cfg.StatusSocket, StreamRequest{What: []string{"readings"}, Sensors: []string{"door"}}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A subscriber that does not keep up loses items, counted; the daemon's
// side never blocks.
func TestHubDropsForSlowSubscriber(t *testing.T) {
	var h hub
	slow := &subscriber{q: make(chan streamItem, 4), mask: maskReadings}
	other := &subscriber{q: make(chan streamItem, 100), mask: maskEvents}
	doorOnly := &subscriber{q: make(chan streamItem, 100), mask: maskReadings, sensors: []bool{true, false}}
	h.add(slow)
	h.add(other)
	h.add(doorOnly)
	done := make(chan struct{})
	go func() {
		for i := range 10 {
			h.publish(streamItem{mask: maskReadings, r: sensor.Reading{TMs: int64(i), Sensor: i % 2}}, i%2)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publish blocked on a full subscriber")
	}
	if len(slow.q) != 4 || slow.dropped.Load() != 6 || len(other.q) != 0 || len(doorOnly.q) != 5 || doorOnly.dropped.Load() != 0 {
		t.Fatalf("slow %d/%d other %d door-only %d", len(slow.q), slow.dropped.Load(), len(other.q), len(doorOnly.q))
	}
	h.remove(slow)
	h.remove(other)
	h.remove(doorOnly)
	if h.subs.Load() != nil || h.wants(maskReadings) {
		t.Fatal("subscribers left after remove")
	}
}

// Concurrent publishers and subscribers joining and leaving: no race, no
// lost subscriber.
func TestHubConcurrent(t *testing.T) {
	var h hub
	var wg gosync.WaitGroup
	stop := make(chan struct{})
	for p := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					h.publish(streamItem{mask: maskReadings, r: sensor.Reading{Sensor: p}}, p)
				}
			}
		})
	}
	for range 50 {
		s := &subscriber{q: make(chan streamItem, 8), mask: maskReadings}
		h.add(s)
		h.remove(s)
	}
	keep := &subscriber{q: make(chan streamItem, 8), mask: maskReadings}
	h.add(keep)
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(keep.q) == 0 || len(*h.subs.Load()) != 1 {
		t.Fatalf("kept subscriber got %d items, %d subscribers", len(keep.q), len(*h.subs.Load()))
	}
}

// Fan-out of one reading: no allocation with or without subscribers.
func BenchmarkHubPublish(b *testing.B) {
	for _, n := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			var h hub
			for range n {
				s := &subscriber{q: make(chan streamItem, 1024), mask: maskReadings}
				h.add(s)
				go func() {
					for range s.q {
					}
				}()
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.publish(streamItem{mask: maskReadings, r: sensor.Reading{TMs: int64(i), Value: 1}}, 0)
			}
			if p := h.subs.Load(); p != nil {
				for _, s := range *p {
					close(s.q)
				}
			}
		})
	}
}
