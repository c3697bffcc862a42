package detect

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

func readerSpec(t testing.TB, repeatMs int64) sensor.Spec {
	t.Helper()
	s, err := sensor.NewSpec("reader", sensor.KindNFCReader, sensor.RoleCheckin,
		[][2]string{{"repeat_ms", fmt.Sprint(repeatMs)}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type tokPoll struct {
	t   int64
	tok string // hex; "" = a reading without token
}

func feedPolls(d Detector, ps ...tokPoll) []sensor.Event {
	var out []sensor.Event
	for _, p := range ps {
		tok, _ := hex.DecodeString(p.tok)
		out = d.Feed(sensor.Reading{TMs: p.t, Sensor: 5, Token: tok}, out)
	}
	return out
}

func TestCheckins(t *testing.T) {
	const a, b = "0a0a0a0a", "0b0b0b0b"
	cases := []struct {
		name   string
		repeat int64
		polls  []tokPoll
		want   string // "t:subject ..."
	}{
		{"card held: many polls, one check-in", 1000, []tokPoll{{0, a}, {100, a}, {200, a}, {900, a}}, "0:0a0a0a0a"},
		{"two members", 1000, []tokPoll{{0, a}, {50, b}, {100, a}, {150, b}}, "0:0a0a0a0a 50:0b0b0b0b"},
		{"back after repeat_ms: new check-in", 1000, []tokPoll{{0, a}, {1000, a}}, "0:0a0a0a0a 1000:0a0a0a0a"},
		{"back just inside repeat_ms: same", 1000, []tokPoll{{0, a}, {999, a}}, "0:0a0a0a0a"},
		// Polls do not push the window on: it runs from the check-in.
		{"window from the check-in, not the last poll", 1000, []tokPoll{{0, a}, {600, a}, {1200, a}, {1800, a}, {2100, a}},
			"0:0a0a0a0a 1200:0a0a0a0a"},
		{"repeat_ms=0: every poll", 0, []tokPoll{{0, a}, {0, a}, {10, a}}, "0:0a0a0a0a 0:0a0a0a0a 10:0a0a0a0a"},
		{"empty token ignored", 1000, []tokPoll{{0, ""}, {10, a}}, "10:0a0a0a0a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range feedPolls(buildNFC(t, readerSpec(t, c.repeat), 5), c.polls...) {
				if e.Type != sensor.Checkin || e.Sensor != 5 {
					t.Fatalf("event %+v", e)
				}
				got = append(got, fmt.Sprintf("%d:%s", e.TMs, e.Subject))
			}
			if s := strings.Join(got, " "); s != c.want {
				t.Fatalf("check-ins %q, want %q", s, c.want)
			}
		})
	}
}

// The detector keeps no reference to the caller's token bytes.
func TestCheckinCopiesToken(t *testing.T) {
	d := buildNFC(t, readerSpec(t, 1000), 0)
	tok := []byte{1, 2, 3}
	out := d.Feed(sensor.Reading{TMs: 0, Token: tok}, nil)
	tok[0] = 9
	out = d.Feed(sensor.Reading{TMs: 10, Token: []byte{1, 2, 3}}, out)
	if len(out) != 1 || out[0].Subject != "010203" {
		t.Fatalf("events %+v", out)
	}
}

// Memory is bounded by the check-ins of one repeat window, however many
// distinct members pass over time.
func TestCheckinMemoryBounded(t *testing.T) {
	d := buildNFC(t, readerSpec(t, 10_000), 0).(*reader)
	var out []sensor.Event
	tok := make([]byte, 16)
	for i := range 100_000 {
		tok[0], tok[1], tok[2] = byte(i), byte(i>>8), byte(i>>16)
		out = d.Feed(sensor.Reading{TMs: int64(i) * 100, Token: tok}, out[:0])
		if len(out) != 1 {
			t.Fatalf("poll %d: %d events", i, len(out))
		}
	}
	if n := d.tracked(); n > 101 {
		t.Fatalf("%d tokens tracked, want at most one window's 100", n)
	}
	if len(d.queue)-d.head > 101 || cap(d.queue) > 1024 {
		t.Fatalf("queue %d live, cap %d", len(d.queue)-d.head, cap(d.queue))
	}
	d.Flush(100_000*100+10_000, nil)
	if d.tracked() != 0 {
		t.Fatalf("%d tokens left after a quiet repeat window", d.tracked())
	}
	if h := d.Health(); h.Readings != 100_000 || h.Invalid != 0 {
		t.Fatalf("health %+v", h)
	}
}

// A token checked in again after eviction of its earlier entry is kept.
func TestCheckinEvictKeepsNewer(t *testing.T) {
	d := buildNFC(t, readerSpec(t, 1000), 0).(*reader)
	out := feedPolls(d, tokPoll{0, "aa"}, tokPoll{1500, "aa"}, tokPoll{2000, "bb"}, tokPoll{2400, "aa"})
	if len(out) != 3 {
		t.Fatalf("events %+v", out)
	}
	if d.tracked() != 2 {
		t.Fatalf("tracked %d, want aa and bb", d.tracked())
	}
}

func TestReaderRole(t *testing.T) {
	s := readerSpec(t, 1000)
	s.Role = sensor.RoleEntrance
	if _, err := newReader(s, 0, values{}); err == nil || !strings.Contains(err.Error(), "role checkin") {
		t.Fatalf("err = %v", err)
	}
	s = readerSpec(t, 1000)
	s.Params = map[string]string{"merge_ms": "5"}
	if _, err := parseParams(s, readerParams); err == nil || !strings.Contains(err.Error(), `unknown key "merge_ms"`) {
		t.Fatalf("err = %v", err)
	}
}

// The common path (a card held: the same token again) allocates nothing.
func BenchmarkCheckinRepeatPoll(b *testing.B) {
	d := buildNFC(b, readerSpec(b, 600_000), 0)
	tok := []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}
	out := d.Feed(sensor.Reading{TMs: 0, Token: tok}, nil)
	b.ReportAllocs()
	t := int64(0)
	for b.Loop() {
		t++
		out = d.Feed(sensor.Reading{TMs: t % 500_000, Token: tok}, out[:0])
	}
}

// Many members: each poll a new check-in, evictions included.
func BenchmarkCheckinDistinct(b *testing.B) {
	d := buildNFC(b, readerSpec(b, 60_000), 0)
	tok := make([]byte, 16)
	var out []sensor.Event
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		tok[0], tok[1], tok[2] = byte(i), byte(i>>8), byte(i>>16)
		out = d.Feed(sensor.Reading{TMs: int64(i) * 100, Token: tok}, out[:0])
	}
}
