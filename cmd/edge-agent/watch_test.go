package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
)

// childWatchEnv makes the test binary run `watch` as the real command line
// would, for the terminal test (tmux runs it on a pseudo-terminal).
const childWatchEnv = "EDGE_AGENT_TEST_WATCH_SOCKET"

func TestMain(m *testing.M) {
	if sock := os.Getenv(childWatchEnv); sock != "" {
		os.Exit(cli(context.Background(), os.Stdout, os.Stderr, "watch", "--socket", sock))
	}
	os.Exit(m.Run())
}

func yes() *bool { b := true; return &b }

// fixedModel is a store as a frame would show it mid-morning.
func fixedModel() *watchModel {
	h := agent.StreamLine{Type: "header", Sensors: []agent.StreamSensor{
		{ID: "door", Kind: "tof-2zone", Role: "entrance", Channels: []string{"z0", "z1"}, ThresholdMM: 300},
		{ID: "street", Kind: "beam-pair", Role: "passerby", Channels: []string{"a", "b"}, CountsEntrants: yes()},
		{ID: "shelf-a", Kind: "tof-presence", Role: "shelf", Channels: []string{"d"}, ThresholdMM: 300},
		{ID: "reader", Kind: "nfc-reader", Role: "checkin", Channels: []string{"token"}},
	}}
	m := newWatchModel(h)
	for _, l := range []agent.StreamLine{
		{Type: "reading", Sensor: "door", Channel: "z0", Value: 2398},
		{Type: "reading", Sensor: "door", Channel: "z1", Value: 1210},
		{Type: "reading", Sensor: "street", Channel: "a", Value: 1},
		{Type: "reading", Sensor: "street", Channel: "b", Value: 0},
		{Type: "reading", Sensor: "shelf-a", Channel: "d", Value: -1},
		{Type: "reading", Sensor: "reader", Channel: "token", Token: "9f86d081884c7d65"},
		{Type: "event", Sensor: "door", Event: "entry"},
		{Type: "event", Sensor: "door", Event: "entry"},
		{Type: "event", Sensor: "door", Event: "exit"},
		{Type: "event", Sensor: "street", Event: "passerby"},
		{Type: "event", Sensor: "street", Event: "passerby"},
		{Type: "event", Sensor: "street", Event: "passerby"},
		{Type: "event", Sensor: "street", Event: "passerby"},
		{Type: "status", Dropped: 3, Status: &agent.Report{Store: "demo-store", Agent: "pi-1",
			Outbox: agent.OutboxStatus{Depth: 2, Dropped: 0},
			Broker: agent.BrokerStatus{URL: "tcp://127.0.0.1:1883", Connected: true},
			Window: agent.WindowStatus{Occupancy: 7},
			Sensors: []agent.SensorStatus{
				{ID: "door", State: "ok", OpenCounts: map[string]int64{"entries": 1, "exits": 0}},
				{ID: "street", State: "ok", OpenCounts: map[string]int64{"passersby": 2}},
				{ID: "shelf-a", State: "error", Error: "VL53L1X on bus 1: no answer at 0x29", OpenCounts: map[string]int64{"stop_bys": 0}},
				{ID: "reader", State: "ok", OpenCounts: map[string]int64{"checkins": 0}},
			}},
			Detectors: []agent.DetectorStatus{
				{Sensor: "door", Learned: true, BaselineMM: []int{2400, 2410}},
				{Sensor: "shelf-a", BaselineMM: []int{0}},
			}},
	} {
		m.apply(&l)
	}
	m.Watching = 95 * time.Second
	return m
}

func TestWatchFrameGolden(t *testing.T) {
	m := fixedModel()
	golden(t, "watch/frame.txt", renderWatch(m))
	if m.EntryRate == nil || *m.EntryRate != 0.5 {
		t.Fatalf("entry rate %v, want 2 entries / 4 passers-by", m.EntryRate)
	}
	if l := plainLine(m, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)); !strings.HasPrefix(l, "09:00:00 door ok entries=2 exits=1 | street ok passersby=4 |") ||
		!strings.Contains(l, "entry_rate 0.50 | outbox 2 | broker connected") {
		t.Fatalf("plain line %q", l)
	}
}

func TestDistanceBar(t *testing.T) {
	for _, c := range []struct {
		v         int64
		base, thr int
		want      string
	}{
		{2400, 2400, 300, "2400mm [#####################|##] base 2400"},
		{1200, 2400, 300, "1200mm [############.........|..] base 2400"},
		{0, 2400, 300, "   0mm [.....................|..] base 2400"},
		{5000, 2400, 300, "5000mm [#####################|##] base 2400"},
		{1000, 0, 300, "1000mm [######..................] learning"},
		{-1, 2400, 300, "invalid [????????????????????????]"},
	} {
		if got := distanceBar(c.v, true, c.base, c.thr); got != c.want {
			t.Errorf("bar(%d, %d, %d) = %q, want %q", c.v, c.base, c.thr, got, c.want)
		}
	}
}

// watch --once against a live daemon: one frame with every sensor, after
// the first status; --output json the same figures.
func TestWatchOnce(t *testing.T) {
	gate := make(chan struct{})
	sock := startWalkers(t, gate)
	close(gate)
	var out, errb bytes.Buffer
	if c := cli(context.Background(), &out, &errb, "watch", "--socket", sock, "--once"); c != 0 {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	for _, want := range []string{"store test-store", "door", "side", "street", "passerby", "broker tcp://", "entry rate since watch"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("frame lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if c := cli(context.Background(), &out, &errb, "watch", "--socket", sock, "--once", "-o", "json"); c != 0 {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	var m struct {
		Store   string `json:"store"`
		Sensors []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"sensors"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.Store != "test-store" || len(m.Sensors) != 3 || m.Sensors[0].State != "ok" {
		t.Fatalf("json %s: %v", out.String(), err)
	}
	if c := cli(context.Background(), io.Discard, &errb, "watch", "--socket", sock+".none", "--once"); c != exitNotRunning {
		t.Fatalf("no daemon: exit %d", c)
	}
	// Plain lines when stdout is no terminal.
	out.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	if c := cli(ctx, &out, &errb, "watch", "--socket", sock); c != 0 {
		t.Fatalf("exit %d", c)
	}
	if n := strings.Count(out.String(), "\n"); n < 1 || strings.Contains(out.String(), "\x1b[") {
		t.Fatalf("plain output %q", out.String())
	}
}

// The interactive view on a real pseudo-terminal (tmux): it draws the
// sensors, counts the people walking through as they do, and q quits.
func TestWatchTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: the terminal test needs it (apt-get install tmux)")
	}
	gate := make(chan struct{})
	sock := startWalkers(t, gate)
	session := fmt.Sprintf("edge-agent-watch-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", session, "-e", childWatchEnv+"="+sock, self)
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	screen := func() string { return tmux("capture-pane", "-p", "-t", session) }
	waitScreen := func(what string, ok func(string) bool) string {
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %s:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitScreen("the sensors", func(s string) bool {
		return strings.Contains(s, "edge-agent watch") && strings.Contains(s, "door") && strings.Contains(s, "street")
	})
	close(gate) // people walk through now
	s := waitScreen("the walkers' counts", func(s string) bool {
		return strings.Contains(s, "entries=3 exits=1") && strings.Contains(s, "passersby=5")
	})
	if strings.Count(s, "edge-agent watch") != 1 {
		t.Fatalf("frames are not redrawn in place:\n%s", s)
	}
	tmux("send-keys", "-t", session, "q")
	deadline := time.Now().Add(5 * time.Second)
	for exec.Command("tmux", "has-session", "-t", session).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit:\n%s", screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
