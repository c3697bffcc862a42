package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/omo-edge/edge-agent/drivers/people-counter/gp2y0a"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
	"github.com/omo-edge/edge-agent/drivers/people-counter/pintest"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/broker"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/sim"
)

// shelvesYAML adds one shelf of each hardware to simStoreYAML's store:
// busy shelves, with seeds whose first stop ends within half a minute. (A
// PIR chains shoppers who come one after the other into one stop, so its
// aisle is quieter.)
const shelvesYAML = `  - id: shelf-vl
    kind: tof-presence
    role: shelf
    bus: sim
    timing_budget: 50ms
    sample_every: 100ms
    simulate: {seed: 20, per_minute: 30, passers_per_minute: 4}
  - id: shelf-sharp
    kind: tof-presence
    role: shelf
    adc: mcp3008
    spi: SIM
    channel: 3
    sharp: gp2y0a02yk0f
    simulate: {seed: 20, per_minute: 30, passers_per_minute: 4}
  - id: shelf-pir
    kind: pir
    role: shelf
    pins: {motion: SIM_PIR}
    params: {hold_ms: "3000"}
    simulate: {seed: 1, per_minute: 12, passers_per_minute: 0}
`

// A simulated store with shelves publishes per-shelf stop-bys and dwell,
// and the store's stop-by rate per shelf, through a broker.
func TestAgentPublishesShelves(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := collect(t, b.URL(), "cloud-shelves")
	// split parses what the cloud got: shelf windows and store windows.
	split := func() (shelfMsgs, storeMsgs []map[string]any) {
		for _, m := range c.snapshot() {
			var v map[string]any
			if json.Unmarshal([]byte(m.Body), &v) != nil {
				t.Fatalf("not JSON: %s", m.Body)
			}
			switch {
			case v["type"] == "sensor_window" && v["role"] == "shelf":
				shelfMsgs = append(shelfMsgs, v)
			case v["type"] == "store_window":
				storeMsgs = append(storeMsgs, v)
			}
		}
		return
	}
	dir := t.TempDir()
	yaml := strings.Replace(simStoreYAML(b.URL(), dir, ""), "window: 1s", "window: 5s", 1) + shelvesYAML
	cfg := loadConfig(t, yaml)
	a, stop := runAgent(t, cfg)

	shelves := []string{"shelf-vl", "shelf-sharp", "shelf-pir"}
	stopped := func() (map[string]bool, bool) {
		shelfMsgs, storeMsgs := split()
		got := map[string]bool{}
		for _, m := range shelfMsgs {
			if n, _ := m["stop_bys"].(float64); n > 0 {
				got[m["sensor"].(string)] = true
			}
		}
		rated := false
		for _, m := range storeMsgs {
			rates, _ := m["stop_by_rate"].(map[string]any)
			for _, r := range rates {
				if f, ok := r.(float64); ok && f > 0 {
					rated = true
				}
			}
		}
		return got, rated
	}
	waitFor(t, "a stop-by at every shelf and a store window with a stop-by rate", 90*time.Second, func() bool {
		got, rated := stopped()
		return len(got) == len(shelves) && rated
	})
	r := a.Report()
	stop()

	for _, s := range r.Sensors {
		if s.Role == "shelf" && (s.State != "ok" || s.Readings == 0 || !s.Simulated) {
			t.Errorf("status of %s: %+v", s.ID, s)
		}
	}
	shelfMsgs, storeMsgs := split()
	// Shelf windows: stop_bys with dwell percentiles, or null without.
	for _, m := range shelfMsgs {
		n, ok := m["stop_bys"].(float64)
		if !ok {
			t.Fatalf("shelf window without stop_bys: %v", m)
		}
		p50, has50 := m["dwell_p50_ms"].(float64)
		p90, has90 := m["dwell_p90_ms"].(float64)
		switch {
		case n == 0 && (m["dwell_p50_ms"] != nil || m["dwell_p90_ms"] != nil):
			t.Errorf("no stop-by but dwell given: %v", m)
		case n > 0 && (!has50 || !has90 || p50 < 3000 || p90 < p50):
			t.Errorf("stop-bys without a sane dwell (dwell_min_ms is 3000): %v", m)
		}
	}
	// Store windows: one rate per shelf, stop_bys / entries of the same
	// window (null when nobody entered).
	stopBys := map[string]float64{}
	for _, m := range shelfMsgs {
		stopBys[m["sensor"].(string)+"@"+m["window_start"].(string)] = m["stop_bys"].(float64)
	}
	checked := 0
	for _, m := range storeMsgs {
		rates, _ := m["stop_by_rate"].(map[string]any)
		if len(rates) != len(shelves) {
			t.Fatalf("stop_by_rate has %d shelves, want %d: %v", len(rates), len(shelves), m)
		}
		entries := m["entries"].(float64)
		for _, s := range shelves {
			sb, ok := stopBys[s+"@"+m["window_start"].(string)]
			if !ok {
				continue // the shelf's message of that window was not collected
			}
			checked++
			r, isNum := rates[s].(float64)
			switch {
			case entries == 0 && rates[s] != nil:
				t.Errorf("%s: rate %v with no entries", s, rates[s])
			case entries > 0 && (!isNum || math.Abs(r-sb/entries) > 1e-4):
				t.Errorf("%s at %s: rate %v, want %d/%d", s, m["window_start"], rates[s], int(sb), int(entries))
			}
		}
	}
	if checked == 0 {
		t.Fatal("no store window could be checked against its shelf windows")
	}
	t.Logf("%d shelf windows, %d store windows, %d rates checked", len(shelfMsgs), len(storeMsgs), checked)
}

// The presence source ranges one zone, the whole array around the optical
// centre unless configured, and sends -1 for a range that is not valid.
func TestToFPresenceSourceROIAndInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		roi  config.ROIConfig
		want vl53l1xtest.ROI
	}{
		{"default", config.ROIConfig{}, vl53l1xtest.ROI{Width: 16, Height: 16, Center: 199}},
		{"configured", config.ROIConfig{Width: 8, Height: 6, Center: 167}, vl53l1xtest.ROI{Width: 8, Height: 6, Center: 167}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu gosync.Mutex
			var rois []vl53l1xtest.ROI
			n := 0
			emu := vl53l1xtest.New(&vl53l1xtest.Options{Scene: func(roi vl53l1xtest.ROI, _ time.Time) (int, int) {
				mu.Lock()
				defer mu.Unlock()
				rois = append(rois, roi)
				n++
				if n%2 == 0 {
					return 0, 2 // signal fail
				}
				return 640, 0
			}})
			sc := config.SensorConfig{ID: "s", Kind: "tof-presence", Role: "shelf", Bus: "emu", TimingBudget: 20 * time.Millisecond,
				SampleEvery: 20 * time.Millisecond, ROI: tc.roi}
			env := &SourceEnv{Clock: SystemClock{}}
			src, err := newToFPresence(vl53l1xtest.NewBus(emu), nil, sc, presenceOpts(sc, env))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			mu.Lock()
			rois = nil // New's calibration (VHV) measurement, with the chip's default ROI, is not a reading
			mu.Unlock()
			got := runFor(t, src, 8)
			for _, r := range got {
				if r.ch != 0 || (r.v != 640 && r.v != -1) {
					t.Fatalf("reading %+v: want channel 0, 640 or -1", r)
				}
			}
			valid, invalid := 0, 0
			for _, r := range got {
				if r.v == 640 {
					valid++
				} else {
					invalid++
				}
			}
			if valid == 0 || invalid == 0 {
				t.Fatalf("readings %+v: want both valid and invalid", got)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range rois {
				if r != tc.want {
					t.Fatalf("measured with ROI %+v, want %+v (all: %v)", r, tc.want, rois)
				}
			}
		})
	}
}

type emitted struct {
	ch int
	v  int64
	at time.Time
}

// runFor runs src until it has emitted n readings (or 10 s pass).
func runFor(t *testing.T, src Source, n int) []emitted {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu gosync.Mutex
	var got []emitted
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(ch int, v int64, _ []byte, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, emitted{ch, v, at})
			if len(got) == n {
				cancel()
			}
		})
	}()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < n {
		t.Fatalf("%d readings in 10s, want %d", len(got), n)
	}
	return got
}

// sharpOnChip is a Sharp source on an emulated MCP3008 whose input on
// channel ch is *volts.
func sharpOnChip(t *testing.T, model string, ch int, volts *float64) (*sharpSource, *mcp3008test.Chip) {
	t.Helper()
	var mu gosync.Mutex
	chip := mcp3008test.New(3.3, func(in int) float64 {
		mu.Lock()
		defer mu.Unlock()
		if in != ch {
			return 3.3 // a wrong channel reads full scale: too close, -1
		}
		return *volts
	})
	sc := config.SensorConfig{ID: "s", Kind: "tof-presence", Role: "shelf", ADC: "mcp3008", Channel: &ch, Sharp: model}
	src, err := newSharpSource(chip, chip, sc)
	if err != nil {
		t.Fatal(err)
	}
	return src, chip
}

// The Sharp source reads its channel through the MCP3008 driver (three
// conversions, median) and the datasheet curve: a distance within the
// ADC's resolution, the far end of the curve when nothing is in range, -1
// when something is closer than the minimum distance.
func TestSharpSourceDistances(t *testing.T) {
	for _, model := range []string{"gp2y0a21yk0f", "gp2y0a02yk0f"} {
		t.Run(model, func(t *testing.T) {
			curve, _ := sharpCurve(model)
			lo, hi := curve.Range()
			var volts float64
			src, chip := sharpOnChip(t, model, 5, &volts)
			defer src.Close()
			read := func(v float64) int64 {
				volts = v
				before := chip.Stats().Conversions
				d, err := src.read()
				if err != nil {
					t.Fatal(err)
				}
				st := chip.Stats()
				if st.Conversions-before != sharpSamples || st.LastChannel != 5 || st.Diff != 0 {
					t.Fatalf("chip saw %+v (before: %d conversions): want %d single-ended conversions of CH5", st, before, sharpSamples)
				}
				return d
			}
			for mm := lo; mm <= hi; mm += (hi - lo) / 7 {
				d := read(sharpVolts(curve, mm))
				// One ADC step (3.2 mV) is worth more millimetres far out,
				// where the curve is flat: allow 2 %.
				if math.Abs(float64(d-int64(mm))) > 0.02*float64(mm)+2 {
					t.Errorf("%d mm read as %d", mm, d)
				}
			}
			if d := read(sharpVolts(curve, 3*hi)); d != int64(hi) {
				t.Errorf("nothing in range (3x the far end): %d, want the far end %d", d, hi)
			}
			if d := read(sharpVolts(curve, -1)); d != int64(hi) {
				t.Errorf("no light back: %d, want the far end %d", d, hi)
			}
			if d := read(3.0); d != -1 {
				t.Errorf("3.0 V, above the curve: %d, want -1", d)
			}
		})
	}
}

// Stop-bys seen through the emulated MCP3008 and the Sharp curve keep the
// presence detector's accuracy (docs/DETECTION-SHELF.md: stop-bys within
// 2 %, dwell p50/p90 within 10 %): three simulated hours of the aisle the
// daemon simulates for a GP2Y0A02YK0F, read every 50 ms.
func TestSharpChainAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("three simulated hours")
	}
	model := "gp2y0a02yk0f"
	curve, _ := sharpCurve(model)
	_, far := curve.Range()
	passers := 3.0
	sc := config.SensorConfig{ID: "shelf", Kind: "tof-presence", Role: "shelf", ADC: "mcp3008",
		Simulate: &config.SimConfig{PerMinute: 4, PassersPerMinute: &passers}}
	var volts float64
	src, _ := sharpOnChip(t, model, 0, &volts)
	defer src.Close()

	var truth, got []int64
	var truthN, gotN int
	for hour := uint64(1); hour <= 3; hour++ {
		sc.Simulate.Seed = int64(hour)
		cfg, err := shelfSimConfig(sc, far)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DurationMs = 3600_000
		aisle, err := sim.NewShelf(cfg)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := sensor.NewSpec("shelf", sensor.KindToFPresence, sensor.RoleShelf, nil)
		det, err := detect.New(spec, 0)
		if err != nil {
			t.Fatal(err)
		}
		var evs []sensor.Event
		for ms := int64(0); ms < cfg.DurationMs; ms += 50 {
			volts = sharpVolts(curve, aisle.ShelfDistance(ms))
			d, err := src.read()
			if err != nil {
				t.Fatal(err)
			}
			evs = det.Feed(sensor.Reading{TMs: ms, Value: d}, evs)
		}
		evs = det.Flush(cfg.DurationMs+60_000, evs)
		n := 0
		for _, e := range evs {
			if e.Type == sensor.StopBy {
				got = append(got, e.DwellMs)
				n++
			}
		}
		tr := aisle.ShelfTruth(0, cfg.DurationMs)
		truth = append(truth, tr.DwellMs...)
		truthN += tr.StopBys
		gotN += n
		t.Logf("hour %d: %d stop-bys (truth %d, %d passing)", hour, n, tr.StopBys, tr.Passing)
	}
	tp50, tp90, _ := aggregate.Percentiles(truth)
	p50, p90, _ := aggregate.Percentiles(got)
	errPct := func(a, b int64) float64 { return 100 * math.Abs(float64(a-b)) / float64(b) }
	t.Logf("stop-bys %d (truth %d, %.1f %%), p50 %d (truth %d, %.1f %%), p90 %d (truth %d, %.1f %%)",
		gotN, truthN, errPct(int64(gotN), int64(truthN)), p50, tp50, errPct(p50, tp50), p90, tp90, errPct(p90, tp90))
	if e := errPct(int64(gotN), int64(truthN)); e > 2 {
		t.Errorf("stop-bys off by %.1f %%, want ≤ 2 %%", e)
	}
	if e := errPct(p50, tp50); e > 10 {
		t.Errorf("dwell p50 off by %.1f %%, want ≤ 10 %%", e)
	}
	if e := errPct(p90, tp90); e > 10 {
		t.Errorf("dwell p90 off by %.1f %%, want ≤ 10 %%", e)
	}
}

// The PIR source sends the output's rise as motion 1 and its fall as 0,
// each at its own time, whichever level means motion.
func TestPIRSourceChanges(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		t.Run(fmt.Sprintf("active_low=%v", activeLow), func(t *testing.T) {
			on, off := gpio.High, gpio.Low
			if activeLow {
				on, off = off, on
			}
			pin := pintest.New("GPIO23", 23)
			pin.Set(off)
			sc := config.SensorConfig{ID: "p", Kind: "pir", Role: "shelf", Pins: map[string]string{"motion": "GPIO23"},
				ActiveLow: &activeLow, Params: map[string]string{"hold_ms": "2000"}}
			src, err := newPIRSource(pin, sc, &SourceEnv{Clock: SystemClock{}})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			go func() {
				time.Sleep(50 * time.Millisecond)
				pin.Set(on)
				time.Sleep(300 * time.Millisecond)
				pin.Set(off)
			}()
			got := runFor(t, src, 2)
			if got[0].ch != 0 || got[0].v != 1 || got[1].ch != 0 || got[1].v != 0 {
				t.Fatalf("readings %+v: want motion 1 then 0 on channel 0", got)
			}
			if d := got[1].at.Sub(got[0].at); d < 200*time.Millisecond || d > 2*time.Second {
				t.Fatalf("high for %v between the readings, want about 300ms", d)
			}
		})
	}
}

// The simulated aisle fits the sensor: shoppers stand within a Sharp
// GP2Y0A21YK0F's 80 cm, and an unusable simulation is refused.
func TestShelfSimConfig(t *testing.T) {
	sc := config.SensorConfig{ID: "s", Kind: "tof-presence", Role: "shelf", Simulate: &config.SimConfig{Seed: 1, PerMinute: 2}}
	c, err := shelfSimConfig(sc, 800)
	if err != nil {
		t.Fatal(err)
	}
	if c.StandMaxMM > 800-300 || c.StandMinMM > c.StandMaxMM || c.MaxRangeMM != 1000 {
		t.Fatalf("GP2Y0A21YK0F aisle: stand %d..%d, range %d", c.StandMinMM, c.StandMaxMM, c.MaxRangeMM)
	}
	sc.Simulate.PerMinute = 500
	if _, err := shelfSimConfig(sc, 4000); err == nil || !strings.Contains(err.Error(), "BrowsersPerMin") {
		t.Fatalf("500 browsers a minute: %v", err)
	}
	// Round trip of the emulated output through the curve.
	curve := gp2y0a.GP2Y0A02YK0F()
	for _, mm := range []int{200, 333, 800, 1500} {
		if d, err := curve.Distance(sharpVolts(curve, mm)); err != nil || abs(int64(d-mm)) > 1 {
			t.Errorf("%d mm: %d, %v", mm, d, err)
		}
	}
}
