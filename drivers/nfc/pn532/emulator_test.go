package pn532

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
)

// transports runs a test over both host interfaces of one emulator.
var transports = []struct {
	name string
	open func(e *pn532test.Emulator, o *Opts) (*Dev, error)
}{
	{"i2c", func(e *pn532test.Emulator, o *Opts) (*Dev, error) { return NewI2C(e.I2C(), o) }},
	{"spi", func(e *pn532test.Emulator, o *Opts) (*Dev, error) { return NewSPI(e.SPI(), o) }},
}

func newEmu(t testing.TB, open func(*pn532test.Emulator, *Opts) (*Dev, error)) (*Dev, *pn532test.Emulator, *pn532test.Clock) {
	t.Helper()
	clk := pn532test.NewClock()
	e := pn532test.New(&pn532test.Options{Now: clk.Now, Sleep: clk.Sleep})
	d, err := open(e, &Opts{Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return d, e, clk
}

func TestEmulatorInit(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, e, _ := newEmu(t, tr.open)
			s := e.Stats()
			// SAMConfiguration, GetFirmwareVersion, RFConfiguration, once each,
			// and no frame ignored: the wake-up came before the first frame.
			for _, c := range []byte{CmdSAMConfiguration, CmdGetFirmwareVersion, CmdRFConfiguration} {
				if s.ByCommand[c] != 1 {
					t.Errorf("command %#02x sent %d times", c, s.ByCommand[c])
				}
			}
			if s.Ignored != 0 || s.LongReadsNotReady != 0 {
				t.Errorf("stats %+v", s)
			}
			fw, err := d.FirmwareVersion()
			if err != nil || fw != (FirmwareVersion{0x32, 0x01, 0x06, 0x07}) {
				t.Fatalf("got %v %v", fw, err)
			}
		})
	}
}

// Without the wake-up transaction the chip (asleep in LowVBat) misses the
// first frame: the retry path recovers it.
func TestEmulatorNoWakeRetries(t *testing.T) {
	clk := pn532test.NewClock()
	e := pn532test.New(&pn532test.Options{Now: clk.Now, WakeTime: 5 * time.Millisecond})
	d, err := NewI2C(e.I2C(), &Opts{Now: clk.Now, Sleep: clk.Sleep, WakeDelay: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	// The first SAMConfiguration was lost while the chip woke up; its
	// second copy was acknowledged.
	if s := e.Stats(); s.Ignored < 1 || s.ByCommand[CmdSAMConfiguration] != 1 {
		t.Fatalf("stats %+v", s)
	}
	if _, err := d.FirmwareVersion(); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatorTypeA(t *testing.T) {
	for _, tr := range transports {
		for _, uid := range [][]byte{
			{0xDE, 0xAD, 0xBE, 0xEF},
			{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66},
		} {
			t.Run(tr.name, func(t *testing.T) {
				d, e, _ := newEmu(t, tr.open)
				if err := e.PresentCard(uid); err != nil {
					t.Fatal(err)
				}
				tg, err := d.InListPassiveTarget(TypeA106, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(tg.UID, uid) || !bytes.Equal(tg.ID(), uid) || tg.Tg != 1 || tg.ISODEP() {
					t.Fatalf("got %+v", tg)
				}
				wantSens, wantSel := uint16(0x0004), byte(0x08)
				if len(uid) == 7 {
					wantSens, wantSel = 0x0044, 0x00
				}
				if tg.SensRes != wantSens || tg.SelRes != wantSel {
					t.Fatalf("SENS_RES %04x SEL_RES %02x", tg.SensRes, tg.SelRes)
				}
				if s := tg.String(); bytes.Contains([]byte(s), []byte("de")) || bytes.Contains([]byte(s), []byte("11 22")) {
					t.Errorf("String leaks the UID: %q", s)
				}
				// Not ISO-DEP: an APDU gets no answer.
				if _, err := d.SelectAID([]byte{0xF0, 0x01, 0x02, 0x03, 0x04}); !errors.Is(err, ErrRFTimeout) {
					t.Fatalf("got %v, want ErrRFTimeout", err)
				}
				if err := d.InRelease(0); err != nil {
					t.Fatal(err)
				}
				if s := e.Stats(); s.LongReadsNotReady != 0 {
					t.Fatalf("long reads while busy: %d", s.LongReadsNotReady)
				}
			})
		}
	}
}

func TestEmulatorNoTarget(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, _, clk := newEmu(t, tr.open)
			t0 := clk.Now()
			if _, err := d.InListPassiveTarget(TypeA106, nil); !errors.Is(err, ErrNoTarget) {
				t.Fatalf("got %v, want ErrNoTarget", err)
			}
			// PassiveRetries 2: three activation attempts of 5 ms each.
			if el := clk.Now().Sub(t0); el < 15*time.Millisecond || el > 20*time.Millisecond {
				t.Fatalf("empty field answered after %s, want ~15ms", el)
			}
			if _, err := d.SelectAID([]byte{1, 2, 3, 4, 5}); !errors.Is(err, ErrNoTarget) {
				t.Fatalf("got %v, want ErrNoTarget", err)
			}
		})
	}
}

func TestEmulatorFeliCa(t *testing.T) {
	idm := []byte{0x01, 0x2E, 0x4C, 0xC7, 0x8A, 0x0B, 0x11, 0x22}
	pmm := []byte{0x03, 0x01, 0x4B, 0x02, 0x4F, 0x49, 0x93, 0xFF}
	for _, tr := range transports {
		for _, m := range []Modulation{FeliCa212, FeliCa424} {
			t.Run(tr.name+" "+m.String(), func(t *testing.T) {
				d, e, _ := newEmu(t, tr.open)
				if err := e.PresentFeliCa(idm, pmm, 0x0003); err != nil {
					t.Fatal(err)
				}
				// A type A poll does not see a FeliCa card.
				if _, err := d.InListPassiveTarget(TypeA106, nil); !errors.Is(err, ErrNoTarget) {
					t.Fatalf("type A: got %v", err)
				}
				tg, err := d.InListPassiveTarget(m, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tg.Modulation != m || !bytes.Equal(tg.IDm, idm) || !bytes.Equal(tg.PMm, pmm) || tg.SystemCode != 0x0003 || !bytes.Equal(tg.ID(), idm) {
					t.Fatalf("got %+v", tg)
				}
				// Request code 00: no system code in POL_RES.
				tg, err = d.InListPassiveTarget(m, []byte{0x00, 0xFF, 0xFF, 0x00, 0x00})
				if err != nil || tg.SystemCode != 0 || !bytes.Equal(tg.IDm, idm) {
					t.Fatalf("got %+v %v", tg, err)
				}
				if _, err := d.InListPassiveTarget(m, []byte{0x00}); err == nil {
					t.Fatal("short polling payload accepted")
				}
			})
		}
	}
}

func TestEmulatorSelectAID(t *testing.T) {
	aid := []byte{0xF0, 0x4F, 0x4D, 0x4F, 0x01}
	token := []byte("member-7f3a9c")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, e, _ := newEmu(t, tr.open)
			if err := e.PresentPhoneHCE(aid, token); err != nil {
				t.Fatal(err)
			}
			tg, err := d.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !tg.ISODEP() || len(tg.UID) != 4 || tg.UID[0] != 0x08 || len(tg.ATS) != 5 {
				t.Fatalf("phone target %+v", tg)
			}
			got, err := d.SelectAID(aid)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, token) {
				t.Fatalf("token %q, want %q", got, token)
			}
			// Another app's AID: 6A 82.
			var ae *APDUError
			if _, err := d.SelectAID([]byte{0xA0, 0x00, 0x00, 0x00, 0x03}); !errors.As(err, &ae) || ae.SW != 0x6A82 {
				t.Fatalf("got %v, want SW 6A82", err)
			}
			// The phone leaves: the chip reports a timeout.
			e.RemoveCard()
			if _, err := d.SelectAID(aid); !errors.Is(err, ErrRFTimeout) {
				t.Fatalf("got %v, want ErrRFTimeout", err)
			}
			// Another phone comes without a new InListPassiveTarget.
			_ = e.PresentPhoneHCE(aid, token)
			if _, err := d.SelectAID(aid); !errors.Is(err, ErrTargetGone) {
				t.Fatalf("got %v, want ErrTargetGone", err)
			}
			if _, err := d.SelectAID(nil); err == nil {
				t.Fatal("empty AID accepted")
			}
		})
	}
}

func TestEmulatorRetryAndNack(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, e, _ := newEmu(t, tr.open)
			e.ResetStats()
			// Two frames lost: the third attempt is acknowledged.
			e.DropFrames(2)
			if _, err := d.FirmwareVersion(); err != nil {
				t.Fatal(err)
			}
			if s := e.Stats(); s.Ignored != 2 || s.Commands != 1 {
				t.Fatalf("stats %+v", s)
			}
			// Retries exhausted: 4 attempts, no ACK.
			e.DropFrames(4)
			if _, err := d.FirmwareVersion(); !errors.Is(err, ErrNoAck) {
				t.Fatalf("got %v, want ErrNoAck", err)
			}
			// A corrupt response is NACKed and read again.
			e.ResetStats()
			e.CorruptResponses(1)
			if fw, err := d.FirmwareVersion(); err != nil || fw.IC != 0x32 {
				t.Fatalf("got %v %v", fw, err)
			}
			if s := e.Stats(); s.Nacks != 1 {
				t.Fatalf("stats %+v", s)
			}
			// An unknown command: ACK, then the error frame.
			if _, err := d.Exchange(0x7E, nil, 0); !errors.Is(err, ErrSyntax) {
				t.Fatalf("got %v, want ErrSyntax", err)
			}
		})
	}
}

// A long answer (more than maxResp) is read again in full after a NACK.
func TestEmulatorLongAnswer(t *testing.T) {
	aid := []byte{0xF0, 0x01, 0x02, 0x03, 0x04}
	token := bytes.Repeat([]byte{0x5A}, 200)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, e, _ := newEmu(t, tr.open)
			_ = e.PresentPhoneHCE(aid, token)
			if _, err := d.InListPassiveTarget(TypeA106, nil); err != nil {
				t.Fatal(err)
			}
			e.ResetStats()
			r, err := d.InDataExchange(1, append([]byte{0x00, 0xA4, 0x04, 0x00, 0x05}, append(aid, 0x00)...), 16)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r[:len(r)-2], token) || !bytes.Equal(r[len(r)-2:], []byte{0x90, 0x00}) {
				t.Fatalf("got %d bytes", len(r))
			}
			if s := e.Stats(); s.Nacks != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// A host frame with a wrong checksum is not acknowledged by the chip.
func TestEmulatorBadHostChecksum(t *testing.T) {
	clk := pn532test.NewClock()
	e := pn532test.New(&pn532test.Options{Now: clk.Now})
	bus := e.I2C()
	st := make([]byte, 1)
	_ = bus.Tx(0x24, nil, st) // wake
	clk.Sleep(2 * time.Millisecond)
	for _, tc := range []struct {
		name  string
		frame []byte
		ack   bool
	}{
		{"bad DCS", []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2B, 0x00}, false},
		{"bad LCS", []byte{0x00, 0x00, 0xFF, 0x02, 0xFD, 0xD4, 0x02, 0x2A, 0x00}, false},
		{"TFI D5", []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x02, 0x29, 0x00}, false},
		{"truncated", []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4}, false},
		{"good", []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}, true},
		// Extended frame 00 00 FF FF FF 00 02 FE D4 02 2A 00.
		{"extended", []byte{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}, true},
	} {
		if err := bus.Tx(0x24, tc.frame, nil); err != nil {
			t.Fatal(err)
		}
		clk.Sleep(5 * time.Millisecond)
		if err := bus.Tx(0x24, nil, st); err != nil {
			t.Fatal(err)
		}
		if got := st[0] == 0x01; got != tc.ack {
			t.Fatalf("%s: ready=%v, want %v", tc.name, got, tc.ack)
		}
		if tc.ack {
			buf := make([]byte, 7)
			_ = bus.Tx(0x24, nil, buf)
			if !bytes.Equal(buf[1:], ackFrame) {
				t.Fatalf("%s: % x, want ACK", tc.name, buf)
			}
			buf = make([]byte, 14)
			_ = bus.Tx(0x24, nil, buf)
			want := []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}
			if !bytes.Equal(buf, want) {
				t.Fatalf("%s: % x, want % x", tc.name, buf, want)
			}
		}
	}
	if err := bus.Tx(0x25, nil, st); err == nil {
		t.Fatal("wrong address answered")
	}
}

func TestEmulatorHalt(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, e, _ := newEmu(t, tr.open)
			_ = e.PresentCard([]byte{1, 2, 3, 4})
			if _, err := d.InListPassiveTarget(TypeA106, nil); err != nil {
				t.Fatal(err)
			}
			if err := d.Halt(); err != nil {
				t.Fatal(err)
			}
			if !e.Asleep() {
				t.Fatal("chip not powered down")
			}
			if s := e.Stats(); s.ByCommand[CmdInRelease] != 1 || s.ByCommand[CmdPowerDown] != 1 {
				t.Fatalf("stats %+v", s)
			}
			// The next command wakes it.
			e.ResetStats()
			if _, err := d.FirmwareVersion(); err != nil {
				t.Fatal(err)
			}
			if s := e.Stats(); e.Asleep() || s.Ignored != 0 {
				t.Fatalf("asleep=%v stats %+v", e.Asleep(), s)
			}
		})
	}
}

func TestEmulatorIRQ(t *testing.T) {
	clk := pn532test.NewClock()
	e := pn532test.New(&pn532test.Options{Now: clk.Now, Sleep: clk.Sleep})
	d, err := NewI2C(e.I2C(), &Opts{Now: clk.Now, Sleep: clk.Sleep, IRQ: e.IRQ()})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.PresentCard([]byte{1, 2, 3, 4, 5, 6, 7})
	if _, err := d.InListPassiveTarget(TypeA106, nil); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.StatusPolls != 0 || s.LongReadsNotReady != 0 {
		t.Fatalf("with IRQ the status must not be polled: %+v", s)
	}
}

func TestPollContext(t *testing.T) {
	d, e, _ := newEmu(t, transports[0].open)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Poll(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	// A card arrives while Poll is looping.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		time.Sleep(5 * time.Millisecond)
		_ = e.PresentCard([]byte{9, 8, 7, 6})
	}()
	tg, err := d.Poll(ctx)
	if err != nil || !bytes.Equal(tg.UID, []byte{9, 8, 7, 6}) {
		t.Fatalf("got %+v %v", tg, err)
	}
}

// Concurrent users of one Dev and of the emulator's field (run with -race).
func TestConcurrent(t *testing.T) {
	d, e, _ := newEmu(t, transports[1].open)
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				switch (g + i) % 3 {
				case 0:
					_ = e.PresentCard([]byte{byte(g), byte(i), 3, 4})
				case 1:
					e.RemoveCard()
				}
				_, err := d.InListPassiveTarget(TypeA106, nil)
				if err != nil && !errors.Is(err, ErrNoTarget) {
					t.Error(err)
					return
				}
				if _, err := d.FirmwareVersion(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// With MaxRetries 0xFF the chip waits for a card forever: the driver gives
// up after Opts.Timeout and aborts the command with an ACK frame.
func TestEmulatorTimeoutAbort(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d, e, clk := newEmu(t, tr.open)
			if err := d.SetMaxRetries(0xFF, 0x01, 0xFF); err != nil {
				t.Fatal(err)
			}
			e.ResetStats()
			t0 := clk.Now()
			if _, err := d.InListPassiveTarget(TypeA106, nil); !errors.Is(err, ErrTimeout) {
				t.Fatalf("got %v, want ErrTimeout", err)
			}
			if el := clk.Now().Sub(t0); el < time.Second || el > 1100*time.Millisecond {
				t.Fatalf("gave up after %s, want ~1s", el)
			}
			if s := e.Stats(); s.Aborts != 1 {
				t.Fatalf("stats %+v", s)
			}
			// The aborted command does not linger: a card now is not
			// reported to the next command.
			_ = e.PresentCard([]byte{1, 2, 3, 4})
			if fw, err := d.FirmwareVersion(); err != nil || fw.IC != 0x32 {
				t.Fatalf("got %v %v", fw, err)
			}
		})
	}
}
