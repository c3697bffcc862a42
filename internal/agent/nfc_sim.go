package agent

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/sim"
)

// nfcSegmentMs is the length of one simulated NFC world: drawn in segments
// so a long-running demo keeps its memory flat.
const nfcSegmentMs = 10 * 60_000

// nfcSpan is a period [start, end) in ms within a segment; for the reader,
// id is who is at it (the simulation's per-member value).
type nfcSpan struct {
	start, end int64
	id         []byte
}

// nfcScene is the simulated NFC world of one sensor over endless time.
type nfcScene struct {
	base   sim.NFCConfig
	reader bool
	mu     sync.Mutex
	seg    int64
	spans  []nfcSpan
}

func newNFCScene(sc config.SensorConfig, reader bool) (*nfcScene, error) {
	c := sim.DefaultNFCConfig()
	c.Name, c.Seed = sc.ID, uint64(sc.Simulate.Seed)
	c.DurationMs, c.TailMs = nfcSegmentMs, 10_000
	if reader {
		c.Plates, c.VisitsPerMin = 0, sc.Simulate.PerMinute
	} else {
		c.Plates, c.TapsPerMin, c.VisitsPerMin = 1, sc.Simulate.PerMinute, 0
		c.PFlicker, c.PDoubleTap, c.NearMissPerMin = 0.3, 0.1, 0.2
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("simulated NFC: %w", err)
	}
	s := &nfcScene{base: c, reader: reader, seg: -1}
	if _, err := s.load(0); err != nil {
		return nil, err
	}
	return s, nil
}

// load makes segment seg current; s.mu is held (or s is not shared yet).
func (s *nfcScene) load(seg int64) ([]nfcSpan, error) {
	if seg == s.seg {
		return s.spans, nil
	}
	cfg := s.base
	cfg.Seed = s.base.Seed*1_000_003 + uint64(seg)
	w, err := sim.NewNFCWorld(cfg)
	if err != nil {
		return nil, err
	}
	s.spans, s.seg = nfcSpans(w, s.reader), seg
	return s.spans, nil
}

// nfcSpans turns a world's readings into what stands in front of the chip:
// for a plate, the field-on periods; for the reader, one span per
// presentation (a run of polls of one token, misses included), widened by
// half a poll period on each side.
func nfcSpans(w *sim.NFCWorld, reader bool) []nfcSpan {
	cfg := w.Config()
	var out []nfcSpan
	poll := int64(cfg.PollMs)
	onAt := int64(-1)
	for _, r := range w.Readings(nil) {
		switch {
		case !reader && r.Sensor == 0:
			if r.Value == 1 && onAt < 0 {
				onAt = r.TMs
			} else if r.Value == 0 && onAt >= 0 {
				out = append(out, nfcSpan{start: onAt, end: r.TMs})
				onAt = -1
			}
		case reader && r.Token != nil:
			if n := len(out); n > 0 && string(out[n-1].id) == string(r.Token) && r.TMs-out[n-1].end <= 4*poll {
				out[n-1].end = r.TMs + poll/2
				continue
			}
			out = append(out, nfcSpan{start: r.TMs - poll/2, end: r.TMs + poll/2, id: r.Token})
		}
	}
	return out
}

// at returns the span holding tMs (ms since the scene started), if any,
// and its segment.
func (s *nfcScene) at(tMs int64) (nfcSpan, int64, bool) {
	tMs = max(tMs, 0)
	seg := tMs / nfcSegmentMs
	s.mu.Lock()
	defer s.mu.Unlock()
	spans, err := s.load(seg)
	if err != nil {
		spans = s.spans // keep the previous world: the config was checked at start
	}
	t := tMs % nfcSegmentMs
	i := sort.Search(len(spans), func(i int) bool { return spans[i].end > t })
	if i < len(spans) && spans[i].start <= t {
		return spans[i], seg, true
	}
	return nfcSpan{}, seg, false
}

// simStep is how often the simulated phones and cards are moved: finer
// than the plate's NS_REG polling and the reader's polls.
const nfcSimStep = 2 * time.Millisecond

// simNFC runs a source with a goroutine moving the simulated world in
// front of its emulated chip.
type simNFC struct {
	Source
	move func(tMs int64)
	// Start is when the scene's time 0 is.
	start time.Time
	now   func() time.Time
}

func (s *simNFC) Run(ctx context.Context, emit Emit) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(nfcSimStep)
		defer t.Stop()
		for {
			s.move(s.now().Sub(s.start).Milliseconds())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err := s.Source.Run(ctx, emit)
	cancel()
	wg.Wait()
	return err
}

func (s *simNFC) Close() error {
	if c, ok := s.Source.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// openSimPlate puts simulated phones in front of an emulated NTAG I2C plus,
// read through the real driver (FD pin when nfc.fd_pin is set, NS_REG
// polling otherwise).
func (a *Agent) openSimPlate(sc config.SensorConfig, env *SourceEnv) (Source, error) {
	scene, err := newNFCScene(sc, false)
	if err != nil {
		return nil, err
	}
	emu := ntagtest.New(&ntagtest.Opts{Now: env.Clock.Now})
	src, err := a.newSimPlateSource(emu, sc, env)
	if err != nil {
		return nil, err
	}
	on := false
	return &simNFC{Source: src, start: env.Clock.Now(), now: env.Clock.Now, move: func(tMs int64) {
		_, _, present := scene.at(tMs)
		switch {
		case present && !on:
			emu.PhoneTap()
		case !present && on:
			emu.PhoneLeave()
		}
		on = present
	}}, nil
}

// newSimPlateSource reads emu through the real driver for plate sc.
func (a *Agent) newSimPlateSource(emu *ntagtest.Emulator, sc config.SensorConfig, env *SourceEnv) (*plateSource, error) {
	var fd = emu.FD()
	if sc.NFC == nil || sc.NFC.FDPin == "" {
		return newPlateSource(emu, nil, nil, a.nfc.plates[sc.ID], sc, env)
	}
	return newPlateSource(emu, nil, fd, a.nfc.plates[sc.ID], sc, env)
}

// openSimReader puts simulated members in front of an emulated PN532, read
// through the real driver over I²C, or SPI when nfc.spi is set. A member's
// simulated id stands for their card: half of them carry a card (a 7-byte
// NXP UID made from the id), half a phone whose store app answers SELECT
// AID with the id as token.
func (a *Agent) openSimReader(sc config.SensorConfig, env *SourceEnv) (Source, error) {
	scene, err := newNFCScene(sc, true)
	if err != nil {
		return nil, err
	}
	emu := pn532test.New(nil)
	src, err := a.newSimReaderSource(emu, sc, env)
	if err != nil {
		return nil, err
	}
	aid := sc.NFC.AIDBytes()
	var cur nfcSpan
	var curSeg int64 = -1
	present := false
	return &simNFC{Source: src, start: env.Clock.Now(), now: env.Clock.Now, move: func(tMs int64) {
		sp, seg, ok := scene.at(tMs)
		if ok && present && seg == curSeg && sp.start == cur.start {
			return
		}
		if !ok {
			if present {
				emu.RemoveCard()
				present = false
			}
			return
		}
		cur, curSeg, present = sp, seg, true
		presentMember(emu, aid, sp.id)
	}}, nil
}

// presentMember puts member id's card or phone on the emulated reader.
func presentMember(emu *pn532test.Emulator, aid, id []byte) {
	if len(id) < 8 {
		return
	}
	if id[0]&1 == 1 {
		_ = emu.PresentPhoneHCE(aid, id)
		return
	}
	uid := append([]byte{0x04}, id[1:7]...)
	_ = emu.PresentCard(uid)
}

// newSimReaderSource reads emu through the real driver for reader sc.
func (a *Agent) newSimReaderSource(emu *pn532test.Emulator, sc config.SensorConfig, env *SourceEnv) (*readerSource, error) {
	var irq = emu.IRQ()
	if sc.NFC == nil || sc.NFC.IRQPin == "" {
		irq = nil
	}
	if sc.NFC != nil && sc.NFC.SPI != "" {
		return a.newReaderSource(nil, emu.SPI(), nil, irq, sc, env)
	}
	return a.newReaderSource(emu.I2C(), nil, nil, irq, sc, env)
}
