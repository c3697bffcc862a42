package plate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
)

var testSecret = []byte("test store plate secret 0123456789")

const testBase = "https://c.example.com/t"

// newTag is an emulated NTAG I2C plus read through the real driver.
func newTag(t *testing.T) (*ntagtest.Emulator, *ntag.Dev) {
	t.Helper()
	emu := ntagtest.New(&ntagtest.Opts{EEPROMWriteTime: 50 * time.Microsecond})
	dev, err := ntag.New(emu, &ntag.Opts{LockTimeout: 5 * time.Millisecond, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return emu, dev
}

func openCtl(t *testing.T, dir string, o Options) *Controller {
	t.Helper()
	o.Plate, o.Dir = "plate-1", dir
	if o.Secret == nil {
		o.Secret = testSecret
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.UnixMilli(1_000_000) }
	}
	c, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// phoneRead is what a phone tapping the plate reads.
func phoneRead(t *testing.T, emu *ntagtest.Emulator) string {
	t.Helper()
	emu.PhoneTap()
	msg, err := emu.RFReadNDEF()
	if err != nil {
		t.Fatalf("phone read: %v", err)
	}
	u, err := DecodeURI(msg)
	if err != nil {
		t.Fatalf("phone read: %v", err)
	}
	return u
}

// tap makes a phone tap the plate at t0 (it reads the tag) and leave; the
// controller sees the field come and go.
func tap(t *testing.T, c *Controller, emu *ntagtest.Emulator, t0 time.Time) string {
	t.Helper()
	u := phoneRead(t, emu)
	if err := c.Service(t0, true); err != nil {
		t.Fatal(err)
	}
	emu.PhoneLeave()
	if err := c.Service(t0.Add(300*time.Millisecond), false); err != nil {
		t.Fatal(err)
	}
	return u
}

func verify(t *testing.T, u string) plateurl.Claims {
	t.Helper()
	cl, err := plateurl.Verify(u, testSecret)
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	if cl.PlateID != "plate-1" || !strings.HasPrefix(u, testBase+"?") {
		t.Fatalf("%s: claims %v", u, cl)
	}
	return cl
}

func TestTapWritesNextURLOnceQuiet(t *testing.T) {
	emu, dev := newTag(t)
	c := openCtl(t, t.TempDir(), Options{Default: Content{BaseURL: testBase}})
	c.Attach(dev)
	t0 := time.Unix(100, 0)
	if err := c.Service(t0, false); err != nil {
		t.Fatal(err)
	}
	first := verify(t, tap(t, c, emu, t0.Add(time.Second)))
	if first.Counter != 1_000_000 {
		t.Fatalf("first counter %d, want the clock in ms (1000000) for a fresh plate", first.Counter)
	}
	// The field has been off 300 ms: the phone may come back (flicker).
	if again := phoneRead(t, emu); verify(t, again) != first {
		t.Fatalf("URL changed before the field was quiet: %s", again)
	}
	emu.PhoneLeave()
	if err := c.Service(t0.Add(1300*time.Millisecond+1499*time.Millisecond), false); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); !st.Pending {
		t.Fatal("write done before Quiet")
	}
	if err := c.Service(t0.Add(1300*time.Millisecond+1500*time.Millisecond), false); err != nil {
		t.Fatal(err)
	}
	second := verify(t, phoneRead(t, emu))
	if second.Counter != first.Counter+1 {
		t.Fatalf("after a tap: counter %d, want %d", second.Counter, first.Counter+1)
	}
	// A phone staying on the plate never sees the tag rewritten under it.
	writes := emu.Stats().BlockWrites
	for i := range 10 {
		if err := c.Service(t0.Add(time.Duration(10+i)*time.Second), true); err != nil {
			t.Fatal(err)
		}
	}
	if emu.Stats().BlockWrites != writes {
		t.Fatal("tag written while the field was on")
	}
}

// Counters never repeat across restarts: the controller is closed (as a
// crash would leave it: Close writes nothing) and reopened, many times,
// with a small reserve so that blocks run out in between.
func TestCounterNeverRepeatsAcrossRestart(t *testing.T) {
	emu, dev := newTag(t)
	dir := t.TempDir()
	seen := map[uint64]bool{}
	var last uint64
	tm := time.Unix(1000, 0)
	for restart := range 6 {
		c, err := Open(Options{Plate: "plate-1", Dir: dir, Secret: testSecret, Default: Content{BaseURL: testBase}, Reserve: 4,
			Now: func() time.Time { return time.UnixMilli(5) }})
		if err != nil {
			t.Fatal(err)
		}
		c.Attach(dev)
		if err := c.Service(tm, false); err != nil {
			t.Fatal(err)
		}
		for range 3 + restart {
			tm = tm.Add(10 * time.Second)
			u := tap(t, c, emu, tm)
			if err := c.Service(tm.Add(5*time.Second), false); err != nil {
				t.Fatal(err)
			}
			cl := verify(t, u)
			if seen[cl.Counter] {
				t.Fatalf("restart %d: counter %d issued twice", restart, cl.Counter)
			}
			if len(seen) > 0 && cl.Counter <= last {
				t.Fatalf("restart %d: counter %d after %d", restart, cl.Counter, last)
			}
			seen[cl.Counter], last = true, cl.Counter
		}
		// What is on the tag now is new; nobody has read it as far as the
		// controller knows, so the next run may keep it (the next tap's
		// phone reads it).
		cl := verify(t, phoneRead(t, emu))
		emu.PhoneLeave()
		if seen[cl.Counter] {
			t.Fatalf("counter %d on the tag was issued before", cl.Counter)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) < 30 {
		t.Fatalf("only %d counters issued", len(seen))
	}
}

// After a restart a tag that holds this plate's last URL is kept (no
// counter burnt, no EEPROM wear); one holding something else is rewritten.
func TestAttachKeepsOwnURL(t *testing.T) {
	emu, dev := newTag(t)
	dir := t.TempDir()
	c := openCtl(t, dir, Options{Default: Content{BaseURL: testBase}})
	c.Attach(dev)
	if err := c.Service(time.Unix(1, 0), false); err != nil {
		t.Fatal(err)
	}
	u := phoneRead(t, emu)
	emu.PhoneLeave()
	c.Close()
	writes := emu.Stats().BlockWrites
	c2 := openCtl(t, dir, Options{Default: Content{BaseURL: testBase}})
	c2.Attach(dev)
	if err := c2.Service(time.Unix(2, 0), false); err != nil {
		t.Fatal(err)
	}
	if emu.Stats().BlockWrites != writes || phoneRead(t, emu) != u {
		t.Fatal("a tag holding the plate's own URL was rewritten")
	}
	emu.PhoneLeave()
	c2.Close()
	// Another base: rewritten.
	c3 := openCtl(t, dir, Options{Default: Content{BaseURL: "https://other.example.com/x"}})
	c3.Attach(dev)
	if err := c3.Service(time.Unix(3, 0), false); err != nil {
		t.Fatal(err)
	}
	if got := phoneRead(t, emu); !strings.HasPrefix(got, "https://other.example.com/x?p=plate-1&c=") {
		t.Fatalf("tag holds %s", got)
	}
}

// A phone holding the memory (RF_LOCKED) delays the write; the same URL
// (same counter) is written once it lets go.
func TestRFLockedRetriesSameURL(t *testing.T) {
	emu, dev := newTag(t)
	c := openCtl(t, t.TempDir(), Options{Default: Content{BaseURL: testBase}})
	c.Attach(dev)
	if err := c.Service(time.Unix(1, 0), false); err != nil {
		t.Fatal(err)
	}
	first := verify(t, tap(t, c, emu, time.Unix(2, 0)))
	// The phone comes back and holds the memory just as the rewrite is due
	// (the source has not seen the field yet).
	emu.PhoneTap()
	if err := emu.RFLock(); err != nil {
		t.Fatal(err)
	}
	if err := c.Service(time.Unix(5, 0), false); err != nil {
		t.Fatalf("RF_LOCKED must be retried, not fail the source: %v", err)
	}
	st := c.Status()
	if !st.Pending || !strings.Contains(st.LastError, "RF_LOCKED") || st.NextCounter != first.Counter+2 {
		t.Fatalf("status %+v", st)
	}
	emu.RFUnlock()
	emu.PhoneLeave()
	if err := c.Service(time.Unix(6, 0), false); err != nil {
		t.Fatal(err)
	}
	cl := verify(t, phoneRead(t, emu))
	if cl.Counter != first.Counter+1 || c.Status().NextCounter != first.Counter+2 || c.Status().Pending {
		t.Fatalf("retry wrote counter %d (status %+v), want the one chosen first, %d", cl.Counter, c.Status(), first.Counter+1)
	}
}

func TestSetContentPersistsAndWaitsForField(t *testing.T) {
	emu, dev := newTag(t)
	dir := t.TempDir()
	c := openCtl(t, dir, Options{Default: Content{BaseURL: testBase}})
	c.Attach(dev)
	if err := c.Service(time.Unix(1, 0), false); err != nil {
		t.Fatal(err)
	}
	// Static content, applied at once.
	applied, err := c.SetContent(Content{URI: "https://example.com/survey"}, FromCloud, "r1")
	if err != nil || !applied {
		t.Fatalf("SetContent: applied %v, %v", applied, err)
	}
	if got := phoneRead(t, emu); got != "https://example.com/survey" {
		t.Fatalf("tag holds %s", got)
	}
	// A phone is on the plate: saved, written once it leaves.
	applied, err = c.SetContent(Content{BaseURL: "https://new.example.com/c"}, FromCloud, "r2")
	if err != nil || applied {
		t.Fatalf("SetContent with a phone on the plate: applied %v, %v", applied, err)
	}
	if got := phoneRead(t, emu); got != "https://example.com/survey" {
		t.Fatalf("tag changed under the phone: %s", got)
	}
	emu.PhoneLeave()
	if err := c.Service(time.Unix(2, 0), true); err != nil {
		t.Fatal(err)
	}
	if err := c.Service(time.Unix(3, 0), false); err != nil {
		t.Fatal(err)
	}
	if err := c.Service(time.Unix(5, 0), false); err != nil {
		t.Fatal(err)
	}
	got := phoneRead(t, emu)
	emu.PhoneLeave()
	if !strings.HasPrefix(got, "https://new.example.com/c?p=plate-1&c=") {
		t.Fatalf("tag holds %s", got)
	}
	// Persisted: a restart with the old config keeps the cloud's content.
	c.Close()
	c2 := openCtl(t, dir, Options{Default: Content{BaseURL: testBase}})
	if st := c2.Status(); st.Content.BaseURL != "https://new.example.com/c" || st.From != FromCloud {
		t.Fatalf("after restart: %+v", st)
	}
}

func TestSetContentRefusedChangesNothing(t *testing.T) {
	emu, dev := newTag(t)
	dir := t.TempDir()
	c := openCtl(t, dir, Options{Default: Content{BaseURL: testBase}})
	c.Attach(dev)
	if err := c.Service(time.Unix(1, 0), false); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "plate-1.json"))
	writes := emu.Stats().BlockWrites
	for _, ct := range []Content{
		{URI: "ftp://example.com/x"},
		{URI: "javascript:alert(1)"},
		{BaseURL: "https://example.com/t?c=1"},
		{BaseURL: "https://example.com/" + strings.Repeat("a", 900)},
		{URI: "https://example.com/a b"},
		{URI: "https://example.com/x", BaseURL: testBase},
		{},
	} {
		if _, err := c.SetContent(ct, FromCloud, "x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", ct, err)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, "plate-1.json"))
	if string(before) != string(after) || emu.Stats().BlockWrites != writes {
		t.Fatal("a refused content changed the state or the tag")
	}
}

func TestCorruptStateStartsFromClock(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plate-1.json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openCtl(t, dir, Options{Default: Content{BaseURL: testBase}, Now: func() time.Time { return time.UnixMilli(77_000) }})
	if st := c.Status(); st.NextCounter != 77_000 {
		t.Fatalf("next counter %d, want the clock 77000", st.NextCounter)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "plate-1.json.corrupt-*")); len(m) != 1 {
		t.Fatalf("corrupt state not moved aside: %v", m)
	}
}

func TestSecondOpenIsBusy(t *testing.T) {
	dir := t.TempDir()
	openCtl(t, dir, Options{})
	_, err := Open(Options{Plate: "plate-1", Dir: dir})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}
}

func TestOneTimeNeedsSecret(t *testing.T) {
	_, err := Open(Options{Plate: "plate-1", Dir: t.TempDir(), Default: Content{BaseURL: testBase}})
	if !errors.Is(err, plateurl.ErrShortSecret) {
		t.Fatalf("Open without secret: %v", err)
	}
}

func BenchmarkTapRewrite(b *testing.B) {
	emu := ntagtest.New(&ntagtest.Opts{EEPROMWriteTime: time.Nanosecond})
	dev, err := ntag.New(emu, &ntag.Opts{Sleep: func(time.Duration) {}})
	if err != nil {
		b.Fatal(err)
	}
	c, err := Open(Options{Plate: "plate-1", Dir: b.TempDir(), Secret: testSecret, Default: Content{BaseURL: testBase}, Reserve: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Attach(dev)
	t0 := time.Unix(0, 0)
	tx0, w0 := emu.Stats().Tx, emu.Stats().BlockWrites
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t0 = t0.Add(10 * time.Second)
		_ = c.Service(t0, true)
		_ = c.Service(t0.Add(time.Millisecond), false)
		if err := c.Service(t0.Add(5*time.Second), false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(emu.Stats().Tx-tx0)/float64(b.N), "i2c-tx/tap")
	b.ReportMetric(float64(emu.Stats().BlockWrites-w0)/float64(b.N), "eeprom-blocks/tap")
	if st := c.Status(); st.Writes < uint64(b.N) || st.Pending {
		b.Fatalf("%d tag writes for %d taps", st.Writes, b.N)
	}
}
