package fleet

import (
	"fmt"
	"testing"
	"time"
)

func window(store string, seq uint64, start int64, historical bool) []byte {
	h := ""
	if historical {
		h = `,"historical":true`
	}
	return fmt.Appendf(nil, `{"v":1,"type":"store_window","id":"%s/pi/store/%d","seq":%d,"store":"%s","agent":"pi",`+
		`"window_start":"2026-03-02T09:00:00Z","window_end":"2026-03-02T09:01:00Z"%s}`, store, start, seq, store, h)
}

func TestConsumerDedupesByID(t *testing.T) {
	c := NewConsumer()
	var observed []Delivery
	c.Observe = func(d Delivery) { observed = append(observed, d) }
	at := time.Unix(1772442100, 0)
	c.Handle(window("s1", 1, 100, false), at)
	c.Handle(window("s1", 2, 160, true), at)
	c.Handle(window("s1", 2, 160, true), at) // re-sent after a lost PUBACK
	c.Handle(window("s1", 5, 340, false), at)
	c.Handle(window("s2", 1, 100, false), at)
	c.Handle([]byte(`{"state":"online","agent":"pi","store":"s1"}`), at) // status: not a window
	c.Handle([]byte(`{"v":1,"type":"health","store":"s1"}`), at)
	c.Handle([]byte(`{"v":1,"type":"store_window","store":"s1"}`), at) // no id
	c.Handle([]byte(`not json`), at)

	w, d, dup, bad := c.Counts()
	if w != 4 || d != 5 || dup != 1 || bad != 2 {
		t.Errorf("windows %d deliveries %d duplicates %d invalid %d, want 4 5 1 2", w, d, dup, bad)
	}
	tot := c.Totals()
	if len(tot) != 2 || tot[0].Store != "s1" || tot[1].Store != "s2" {
		t.Fatalf("totals %+v", tot)
	}
	if s1 := tot[0]; s1.Windows != 3 || s1.Duplicates != 1 || s1.Historical != 1 || s1.MaxSeq != 5 || s1.SeqGaps != 2 {
		t.Errorf("s1 totals %+v, want 3 windows, 1 duplicate, 1 historical, max seq 5, 2 gaps (3, 4)", s1)
	}
	if !c.Delivered("s1", "pi", 5) || c.Delivered("s1", "pi", 3) || c.Delivered("s3", "pi", 1) {
		t.Error("Delivered disagrees with what was handled")
	}
	if len(observed) != 4 {
		t.Fatalf("observed %d first deliveries, want 4", len(observed))
	}
	if o := observed[1]; !o.Historical || o.Seq != 2 || !o.WindowEnd.Equal(time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC)) || !o.At.Equal(at) {
		t.Errorf("observed %+v", o)
	}
}

func TestConsumerStorePrefix(t *testing.T) {
	c := NewConsumer()
	c.StorePrefix = "east-"
	c.Handle(window("east-0001", 1, 100, false), time.Now())
	c.Handle(window("west-0001", 1, 100, false), time.Now())
	if w, d, _, _ := c.Counts(); w != 1 || d != 1 {
		t.Errorf("counted %d windows (%d deliveries), want only east's 1", w, d)
	}
}

func TestFilters(t *testing.T) {
	if f := Filters("edge-agent", ""); f[0] != "edge-agent/+/+/agg/+" || f[1] != "edge-agent/+/+/store" {
		t.Errorf("plain filters %v", f)
	}
	if f := Filters("omo/prod", "cloud"); f[0] != "$share/cloud/omo/prod/+/+/agg/+" || f[1] != "$share/cloud/omo/prod/+/+/store" {
		t.Errorf("shared filters %v", f)
	}
}

func TestPerSecondAndQuantile(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ts := []time.Time{t0.Add(2500 * time.Millisecond), t0, t0.Add(100 * time.Millisecond), t0.Add(900 * time.Millisecond), t0.Add(1500 * time.Millisecond)}
	peak, span := perSecond(ts, t0)
	if peak != 3 || span != 2500*time.Millisecond {
		t.Errorf("peak %d span %v, want 3 in the first second, 2.5s", peak, span)
	}
	if p, s := perSecond(nil, t0); p != 0 || s != 0 {
		t.Errorf("empty: %d %v", p, s)
	}
	xs := []float64{5, 1, 4, 2, 3}
	if q := quantile(xs, 0.5); q != 3 {
		t.Errorf("median %v", q)
	}
	if q := quantile(xs, 0.99); q != 5 {
		t.Errorf("p99 %v", q)
	}
	if xs[0] != 5 {
		t.Error("quantile sorted its input")
	}
}

func TestClockAccelerates(t *testing.T) {
	wall := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := NewClock(wall, 600)
	time.Sleep(20 * time.Millisecond)
	el := c.Elapsed()
	if el < 12*time.Second || el > 60*time.Second {
		t.Fatalf("20ms real at 600x = %v store time, want about 12s", el)
	}
	if got := c.Now().Sub(c.At(0)); got < el {
		t.Errorf("Now is %v after the start, want at least %v", got, el)
	}
	// RealOf inverts Wall: the real time the store clock shows w
	w := c.Wall()
	if d := time.Until(c.RealOf(w)); d > time.Millisecond || d < -50*time.Millisecond {
		t.Errorf("RealOf(Wall()) is %v from now", d)
	}
	if c.Real(time.Minute) != 100*time.Millisecond {
		t.Errorf("a store minute at 600x = %v real", c.Real(time.Minute))
	}
	c.Freeze()
	f := c.Elapsed()
	time.Sleep(10 * time.Millisecond)
	if c.Elapsed() != f || !c.Now().Equal(c.At(f)) {
		t.Error("a frozen clock moved")
	}
}

func TestHistogramAndWindows(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ts := []time.Time{t0, t0.Add(300 * time.Millisecond), t0.Add(2100 * time.Millisecond), t0.Add(11 * time.Second)}
	h := histogram(ts, t0)
	if len(h) != 12 || h[0] != 2 || h[1] != 0 || h[2] != 1 || h[11] != 1 {
		t.Errorf("histogram %v", h)
	}
	if p, _ := perWindow(ts, t0, 10*time.Second); p != 3 {
		t.Errorf("10s peak %d, want 3", p)
	}
}

func TestMosquittoConnects(t *testing.T) {
	log := `1796419689: mosquitto version 2.0.11 starting
1796419690: New connection from 127.0.0.1:32986 on port 42133.
1796419690: New client connected from 127.0.0.1:32986 as store-0015-pi (p2, c1, k30).
1796419690: New client connected from 127.0.0.1:32990 as fleet-consumer-store (p2, c0, k30).
1796419688: New client connected from 127.0.0.1:32000 as store-0001-pi (p2, c1, k30).
1796419691: New client connected from 127.0.0.1:32991 as store-0016-pi (p2, c1, k30).
garbage: New client connected from x as
`
	ts := mosquittoConnects(log, time.Unix(1796419689, 500e6))
	if len(ts) != 2 || ts[0].Unix() != 1796419690 || ts[1].Unix() != 1796419691 {
		t.Errorf("connects %v, want the two stores' after the restart", ts)
	}
}
