package agent

import (
	"bytes"
	"context"
	"log/slog"
	gosync "sync"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/plate"
	"github.com/omo-edge/edge-agent/internal/pseudo"
)

// nfcEmitted collects a source's readings.
type nfcEmitted struct {
	mu   gosync.Mutex
	vals []int64
	toks [][]byte
}

func (e *nfcEmitted) emit(_ int, v int64, tok []byte, _ time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vals = append(e.vals, v)
	e.toks = append(e.toks, tok)
}

func (e *nfcEmitted) snapshot() ([]int64, [][]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.vals...), append([][]byte(nil), e.toks...)
}

// The plate source reports each field change once, over the FD pin or by
// polling NS_REG, and the tag gets its URL.
func TestPlateSourceFieldChanges(t *testing.T) {
	for _, fdPin := range []string{"", "SIM_FD"} {
		t.Run("fd="+fdPin, func(t *testing.T) {
			ctl, err := plate.Open(plate.Options{Plate: "plate-1", Dir: t.TempDir(), Secret: []byte(testPlateSecret),
				Default: plate.Content{BaseURL: "https://c.example.com/t"}, Quiet: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer ctl.Close()
			a := &Agent{nfc: &nfcState{plates: map[string]*plate.Controller{"plate-1": ctl}}}
			emu := ntagtest.New(nil)
			sc := config.SensorConfig{ID: "plate-1", Kind: "nfc-plate", Role: "plate",
				NFC: &config.NFCSensorConfig{FDPin: fdPin, PollInterval: 5 * time.Millisecond}}
			src, err := a.newSimPlateSource(emu, sc, &SourceEnv{Clock: TrustedClock{}})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var got nfcEmitted
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, got.emit) }()
			waitFor(t, "the first URL", 5*time.Second, func() bool { return tagURI(emu) != "" })
			for range 3 {
				emu.PhoneTap()
				time.Sleep(60 * time.Millisecond)
				emu.PhoneLeave()
				time.Sleep(120 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			vals, _ := got.snapshot()
			want := []int64{0, 1, 0, 1, 0, 1, 0}
			if len(vals) != len(want) {
				t.Fatalf("readings %v, want %v", vals, want)
			}
			for i := range want {
				if vals[i] != want[i] {
					t.Fatalf("readings %v, want %v", vals, want)
				}
			}
			if st := ctl.Status(); st.Writes != 4 || st.Pending {
				t.Fatalf("controller %+v: want the first URL and one per tap", st)
			}
		})
	}
}

// The reader pseudonymizes what identifies the holder: a card's UID, the
// token of the store app, a FeliCa IDm; a phone without the app is nobody.
func TestReaderSourcePoll(t *testing.T) {
	secret := []byte("pseudonym secret of the test store")
	ps, err := pseudo.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{nfc: &nfcState{ps: ps, log: slog.New(slog.DiscardHandler)}}
	emu := pn532test.New(nil)
	sc := config.SensorConfig{ID: "reader", Kind: "nfc-reader", Role: "checkin", NFC: &config.NFCSensorConfig{FeliCa: true}}
	src, err := a.newSimReaderSource(emu, sc, &SourceEnv{Clock: TrustedClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	aid := sc.NFC.AIDBytes()
	uid := []byte{0x04, 1, 2, 3, 4, 5, 6}
	tok := []byte("member token 42")
	idm := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, c := range []struct {
		name    string
		present func() error
		want    []byte // raw value whose pseudonym is expected; nil: nothing
	}{
		{"empty field", func() error { emu.RemoveCard(); return nil }, nil},
		{"card", func() error { return emu.PresentCard(uid) }, uid},
		{"store app", func() error { return emu.PresentPhoneHCE(aid, tok) }, tok},
		{"other app", func() error { return emu.PresentPhoneHCE([]byte{0xA0, 0, 0, 0, 1}, tok) }, nil},
		{"felica", func() error { return emu.PresentFeliCa(idm, make([]byte, 8), 0x88B4) }, idm},
	} {
		if err := c.present(); err != nil {
			t.Fatal(err)
		}
		got, err := src.poll()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		switch {
		case c.want == nil && got != nil:
			t.Errorf("%s: token %x, want none", c.name, got)
		case c.want != nil && !bytes.Equal(got, ps.Token(c.want)):
			t.Errorf("%s: token %x, want the pseudonym of the raw value", c.name, got)
		case c.want != nil && bytes.Contains(got, c.want):
			t.Errorf("%s: the raw value is in the token", c.name)
		}
	}
}
