package buffer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fixture writes a closed, valid outbox with n records and some state, and
// returns its bytes.
func fixture(t *testing.T, n int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.db")
	o, _ := open(t, path, DefaultOptions())
	for i := range n {
		o.Stage(fmt.Sprintf("agg/door-%d", i%3), payload)
		if i%100 == 99 {
			must(0, o.Commit())
		}
	}
	o.SetState("agg", []byte("state"))
	must(0, o.Close())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkMovedAside asserts Open moved the unusable file aside (keeping its
// bytes), logged it, and gave a working fresh outbox.
func checkMovedAside(t *testing.T, path string, original []byte) *Outbox {
	t.Helper()
	o, lb := open(t, path, DefaultOptions())
	t.Cleanup(func() { o.Close() })
	if o.Stats().MovedAside != 1 {
		t.Fatalf("file not moved aside; log:\n%s", lb)
	}
	logText := lb.String()
	if !strings.Contains(logText, "level=ERROR") || !strings.Contains(logText, "moved aside") || !strings.Contains(logText, "moved_to=") {
		t.Errorf("no clear log line:\n%s", logText)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("moved-aside files: %v", aside)
	}
	if original != nil {
		if b, err := os.ReadFile(aside[0]); err != nil || !bytes.Equal(b, original) {
			t.Errorf("moved-aside file does not hold the original bytes (err %v)", err)
		}
	}
	if s := o.Stats(); s.Depth != 0 {
		t.Errorf("fresh outbox not empty: %+v", s)
	}
	seq := o.Stage("store", payload)
	must(0, o.Commit())
	if recs := must(o.Pending(0, 10)); len(recs) != 1 || recs[0].Seq != seq {
		t.Errorf("fresh outbox does not work: %v", seqsOf(recs))
	}
	return o
}

func TestGarbageFileMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	garbage := bytes.Repeat([]byte("not a bbolt file at all "), 2000)
	must(0, os.WriteFile(path, garbage, 0o600))
	o := checkMovedAside(t, path, garbage)
	// Nothing salvageable: the seq starts past any seq an earlier file could
	// have handed out (wall-clock microseconds).
	if s := o.Stats().LastSeq; s < uint64(time.Now().Add(-time.Hour).UnixMicro()) {
		t.Errorf("seq after unsalvageable file = %d, want a wall-clock floor", s)
	}
}

func TestEmptyAndTinyFilesMovedAside(t *testing.T) {
	for _, size := range []int{1, 100, 4096} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.db")
			b := make([]byte, size)
			must(0, os.WriteFile(path, b, 0o600))
			checkMovedAside(t, path, b)
		})
	}
}

func TestTruncatedFileMovedAside(t *testing.T) {
	full := fixture(t, 3000)
	// bbolt grows the file ahead of use: cut below the high water mark of
	// the newest valid meta (pgid at offset 16+40, txid at 16+48).
	ps := int(binary.LittleEndian.Uint32(full[16+8:]))
	hwm := 0
	var txid uint64
	for _, off := range []int{0, ps} {
		if id := binary.LittleEndian.Uint64(full[off+16+48:]); id > txid {
			txid, hwm = id, int(binary.LittleEndian.Uint64(full[off+16+40:]))*ps
		}
	}
	for _, frac := range []float64{0.9, 0.5, 0.25} {
		t.Run(fmt.Sprint(frac), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.db")
			cut := full[:int(float64(hwm)*frac)/ps*ps]
			must(0, os.WriteFile(path, cut, 0o600))
			o := checkMovedAside(t, path, cut)
			// Not reused: past the old file's 3000.
			if s := o.Stats().LastSeq; s <= 3001 {
				t.Errorf("seq after truncated file = %d, want > 3001", s)
			}
		})
	}
}

func TestDirectoryInPlaceMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	must(0, os.Mkdir(path, 0o700))
	must(0, os.WriteFile(filepath.Join(path, "junk"), []byte("x"), 0o600))
	checkMovedAside(t, path, nil)
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if fi, err := os.Stat(aside[0]); err != nil || !fi.IsDir() {
		t.Errorf("directory not moved aside intact: %v", err)
	}
}

// A FIFO at the path would block bbolt's open forever: it must be moved
// aside without being opened.
func TestFIFOInPlaceMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no mkfifo:", err)
	}
	checkMovedAside(t, path, nil) // a regression hangs here until the test timeout
}

func TestUnreadableFileMovedAside(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file; TestDirectoryInPlaceMovedAside covers an unopenable path")
	}
	path := filepath.Join(t.TempDir(), "outbox.db")
	must(0, os.WriteFile(path, fixture(t, 10), 0o000))
	checkMovedAside(t, path, nil)
}

// TestFlippedByteInPages flips one byte in every page of a valid file (the
// page header's count and a byte in the middle of the page) and at 300
// random offsets (50 with -short): Open must never panic, and either move
// the file aside or serve every original record and the state unchanged (a
// flip in a free page is harmless). A damaged meta page makes bbolt fall back to the
// previous transaction, as after a torn meta write in a power cut, so pages
// 0 and 1 may serve an older state.
func TestFlippedByteInPages(t *testing.T) {
	const n = 1500
	orig := fixture(t, n)
	pageSize := int(binary.LittleEndian.Uint32(orig[16+8:])) // meta.pageSize after the page header, magic, version
	if pageSize != DefaultOptions().PageSize {
		t.Fatalf("page size read as %d", pageSize)
	}
	pages := len(orig) / pageSize
	var offsets []int
	for pg := 0; pg < pages; pg++ {
		offsets = append(offsets, pg*pageSize+10, pg*pageSize+pageSize/2) // count field of the header; the body
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := 300
	if testing.Short() {
		random = 50
	}
	for range random {
		offsets = append(offsets, rng.IntN(len(orig)))
	}
	detected, harmless := 0, 0
	for i, off := range offsets {
		b := bytes.Clone(orig)
		b[off] ^= byte(1 << (i % 8))
		path := filepath.Join(t.TempDir(), "outbox.db")
		must(0, os.WriteFile(path, b, 0o600))
		o, lb := open(t, path, DefaultOptions())
		if o.Stats().MovedAside == 1 {
			if !strings.Contains(lb.String(), "moved aside") {
				t.Errorf("offset %d: moved aside without a log line", off)
			}
			detected++
		} else {
			recs := allPending(t, o)
			for _, r := range recs {
				if !bytes.Equal(r.Payload, payload(r.Seq)) || r.Topic != fmt.Sprintf("agg/door-%d", (r.Seq-1)%3) {
					t.Errorf("offset %d: undetected corruption in record %d: %q %q", off, r.Seq, r.Topic, r.Payload)
				}
			}
			st, _ := o.State("agg")
			if off >= 2*pageSize && (len(recs) != n || string(st) != "state" || o.Stats().LastSeq != n) {
				t.Errorf("offset %d (page %d): undetected loss: %d records, state %q, last seq %d",
					off, off/pageSize, len(recs), st, o.Stats().LastSeq)
			}
			harmless++
		}
		must(0, o.Close())
	}
	t.Logf("%d pages, %d flips: %d detected and moved aside, %d harmless", pages, len(offsets), detected, harmless)
	if detected == 0 {
		t.Error("no flip detected")
	}
}

func TestForeignBboltFileMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(0, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("someone-else"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}))
	must(0, db.Close())
	checkMovedAside(t, path, nil)
}

// TestCyclicPageMovedAside points a branch page at itself: bbolt's cursor
// and tx.Check would descend forever; the page walk at Open must catch it.
func TestCyclicPageMovedAside(t *testing.T) {
	orig := fixture(t, 3000)
	ps := int(binary.LittleEndian.Uint32(orig[16+8:]))
	cycled := 0
	for pg := 2; pg < len(orig)/ps; pg++ {
		p := orig[pg*ps:]
		// A live branch page: flags 0x01, its id in the header, children.
		if binary.LittleEndian.Uint16(p[8:]) != 0x01 || binary.LittleEndian.Uint64(p) != uint64(pg) || binary.LittleEndian.Uint16(p[10:]) < 2 {
			continue
		}
		b := bytes.Clone(orig)
		binary.LittleEndian.PutUint64(b[pg*ps+16+8:], uint64(pg)) // element 0's child = itself
		path := filepath.Join(t.TempDir(), "outbox.db")
		must(0, os.WriteFile(path, b, 0o600))
		o, lb := open(t, path, DefaultOptions())
		if o.Stats().MovedAside != 1 {
			// A stale branch page in the free list is harmless.
			if got := len(allPending(t, o)); got != 3000 {
				t.Errorf("page %d: cycle not detected and %d records served:\n%s", pg, got, lb)
			}
		} else {
			cycled++
			if !strings.Contains(lb.String(), "reached twice") {
				t.Errorf("page %d: moved aside for another reason:\n%s", pg, lb)
			}
		}
		must(0, o.Close())
	}
	if cycled == 0 {
		t.Fatal("no live branch page found to corrupt")
	}
}

func TestKeepCorruptPrunesOldFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	opts := DefaultOptions()
	opts.KeepCorrupt = 1
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts.Clock = func() time.Time { at = at.Add(time.Second); return at }
	for i := range 4 {
		must(0, os.WriteFile(path, []byte(fmt.Sprint("garbage", i)), 0o600))
		o, _ := open(t, path, opts)
		must(0, o.Close())
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 2 {
		t.Fatalf("kept %v, want the 2 newest", aside)
	}
	if b, _ := os.ReadFile(aside[1]); string(b) != "garbage3" {
		t.Errorf("newest kept holds %q", b)
	}
}

// TestCorruptionWhileOpen rots the file under a live outbox: reads and
// commits must not panic, and the outbox must get back to working.
func TestCorruptionWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, lb := open(t, path, DefaultOptions())
	defer o.Close()
	for range 2000 {
		o.Stage("store", payload)
	}
	must(0, o.Commit())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	junk := bytes.Repeat([]byte{0xff}, int(fi.Size())-2*4096)
	if _, err := f.WriteAt(junk, 2*4096); err != nil { // everything but the meta pages
		t.Fatal(err)
	}
	f.Close()

	_, perr := o.Pending(0, 10) // an error or skipped records, no panic
	o.Stage("store", payload)
	cerr := o.Commit()
	if cerr != nil {
		cerr = o.Commit()
	}
	t.Logf("Pending: %v; Commit: %v\n%s", perr, cerr, lb)
	if cerr != nil {
		t.Fatalf("outbox did not recover: %v\n%s", cerr, lb)
	}
	seq := o.Stage("store", payload)
	must(0, o.Commit())
	recs := allPending(t, o)
	if got := fmt.Sprint(seqsOf(recs)); got != fmt.Sprint([]uint64{seq - 1, seq}) {
		t.Fatalf("after recovery Pending = %v, want [%d %d]", got, seq-1, seq)
	}
	s := o.Stats()
	if s.MovedAside != 1 || s.Dropped != 2000 || s.LastSeq != 2002 {
		t.Fatalf("after recovery: %+v (want the lost 2000 counted as dropped, seq carried on)", s)
	}
	if !strings.Contains(lb.String(), "records_lost=2000") {
		t.Errorf("loss not logged:\n%s", lb)
	}
}

// TestReadPanicReplacesFileAtNextCommit: only the publisher's reads hit the
// rot; the next commit must still replace the file so it is not stuck.
func TestReadPanicReplacesFileAtNextCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, _ := open(t, path, DefaultOptions())
	defer o.Close()
	for range 2000 {
		o.Stage("store", payload)
	}
	must(0, o.Commit())
	o.readPanic.Store(&panicError{"simulated"})
	must(0, o.Commit()) // nothing staged: the replacement alone
	if s := o.Stats(); s.MovedAside != 1 || s.Depth != 0 || s.Dropped != 2000 {
		t.Fatalf("read panic did not replace the file: %+v", s)
	}
	seq := o.Stage("store", payload)
	must(0, o.Commit())
	if recs := must(o.Pending(0, 10)); len(recs) != 1 || recs[0].Seq != seq || seq != 2001 {
		t.Fatalf("after replacement Pending = %v (seq %d)", seqsOf(recs), seq)
	}
}
