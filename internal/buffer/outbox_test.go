package buffer

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/testutil/logbuf"
)

// logBuf collects slog output for assertions.
type logBuf = logbuf.Buffer

func newLogger() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func payload(seq uint64) []byte { return fmt.Appendf(nil, `{"seq":%d,"entries":3}`, seq) }

func open(t testing.TB, path string, opts Options) (*Outbox, *logBuf) {
	t.Helper()
	log, lb := newLogger()
	o, err := Open(path, opts, log)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return o, lb
}

// allPending drains Pending without acking.
func allPending(t testing.TB, o *Outbox) []Record {
	t.Helper()
	var out []Record
	var after uint64
	for {
		recs, err := o.Pending(after, 100)
		if err != nil {
			t.Fatalf("Pending: %v", err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		after = recs[len(recs)-1].Seq
	}
}

func seqsOf(recs []Record) []uint64 {
	s := make([]uint64, len(recs))
	for i, r := range recs {
		s[i] = r.Seq
	}
	return s
}

func TestValidate(t *testing.T) {
	d := DefaultOptions()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		field string
		mod   func(*Options)
	}{
		{"MaxBytes", func(o *Options) { o.MaxBytes = 100 }},
		{"FlushInterval", func(o *Options) { o.FlushInterval = 0 }},
		{"FlushRecords", func(o *Options) { o.FlushRecords = 0 }},
		{"LockTimeout", func(o *Options) { o.LockTimeout = -time.Second }},
		{"KeepCorrupt", func(o *Options) { o.KeepCorrupt = -1 }},
		{"PageSize", func(o *Options) { o.PageSize = 5000 }},
	} {
		o := DefaultOptions()
		tc.mod(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), "Options."+tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming Options.%s", tc.field, err, tc.field)
		}
		if _, err := Open(filepath.Join(t.TempDir(), "x.db"), o, nil); err == nil {
			t.Errorf("%s: Open accepted invalid options", tc.field)
		}
	}
}

func TestCommitPendingAckRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, _ := open(t, path, DefaultOptions())
	woke := o.Committed()

	for i, topic := range []string{"agg/door-1", "store", "agg/door-1"} {
		if seq := o.Stage(topic, payload); seq != uint64(i+1) {
			t.Fatalf("Stage #%d returned seq %d", i, seq)
		}
	}
	if recs, _ := o.Pending(0, 10); len(recs) != 0 {
		t.Fatalf("staged records visible before Commit: %v", seqsOf(recs))
	}
	if s := o.Stats(); s.Staged != 3 || s.Depth != 0 {
		t.Fatalf("before commit: Staged %d Depth %d, want 3 0", s.Staged, s.Depth)
	}
	select {
	case <-woke:
		t.Fatal("Committed fired before Commit")
	default:
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	default:
		t.Fatal("Committed not closed by Commit")
	}

	recs, err := o.Pending(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("Pending returned %d records, want 3", len(recs))
	}
	for i, r := range recs {
		want := []string{"agg/door-1", "store", "agg/door-1"}[i]
		if r.Seq != uint64(i+1) || r.Topic != want || !bytes.Equal(r.Payload, payload(r.Seq)) {
			t.Errorf("record %d = {%d %q %s}, want {%d %q %s}", i, r.Seq, r.Topic, r.Payload, i+1, want, payload(uint64(i+1)))
		}
	}
	if got := seqsOf(must(o.Pending(1, 10))); fmt.Sprint(got) != "[2 3]" {
		t.Errorf("Pending(after 1) = %v, want [2 3]", got)
	}
	if got := seqsOf(must(o.Pending(0, 2))); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("Pending(max 2) = %v, want [1 2]", got)
	}
	s := o.Stats()
	if s.Depth != 3 || s.LastSeq != 3 || s.OldestSeq != 1 || s.Commits != 1 || s.OldestAt.IsZero() || s.Bytes <= 0 {
		t.Errorf("Stats after commit = %+v", s)
	}

	o.Ack(2)
	if got := seqsOf(must(o.Pending(0, 10))); fmt.Sprint(got) != "[1 3]" {
		t.Errorf("Pending after Ack(2), before Commit = %v, want [1 3]", got)
	}
	if s := o.Stats(); s.Commits != 1 || s.AckPending != 1 || s.Depth != 3 {
		t.Errorf("Ack committed on its own or was not counted: %+v", s)
	}
	if err := o.Commit(); err != nil { // acks only
		t.Fatal(err)
	}
	if s := o.Stats(); s.Commits != 2 || s.AckPending != 0 || s.Depth != 2 {
		t.Errorf("after ack commit: %+v", s)
	}
	if err := o.Commit(); err != nil { // nothing to do: no write
		t.Fatal(err)
	}
	if s := o.Stats(); s.Commits != 2 {
		t.Errorf("empty Commit wrote a transaction: Commits = %d", s.Commits)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Pending(0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Pending after Close: %v, want ErrClosed", err)
	}

	o, _ = open(t, path, DefaultOptions())
	defer o.Close()
	if got := seqsOf(allPending(t, o)); fmt.Sprint(got) != "[1 3]" {
		t.Errorf("after reopen Pending = %v, want [1 3]", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSeqNeverReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	opts := DefaultOptions()
	opts.MaxBytes = MinMaxBytes
	o, _ := open(t, path, opts)
	for range 5 {
		o.Stage("store", payload)
	}
	must(0, o.Commit())
	o.Ack(1, 2, 3, 4, 5)
	must(0, o.Commit())
	must(0, o.Close())

	o, _ = open(t, path, opts)
	if seq := o.Stage("store", payload); seq != 6 {
		t.Fatalf("after acking everything and reopening, seq = %d, want 6", seq)
	}
	// Overflow the bound so everything so far is dropped.
	big := func(seq uint64) []byte { return bytes.Repeat([]byte{'x'}, 1000) }
	var last uint64
	for range 100 {
		last = o.Stage("store", big)
	}
	must(0, o.Commit())
	if s := o.Stats(); s.Dropped == 0 || s.OldestSeq <= 6 {
		t.Fatalf("bound did not drop: %+v", s)
	}
	must(0, o.Close())
	o, _ = open(t, path, opts)
	defer o.Close()
	if seq := o.Stage("store", payload); seq != last+1 {
		t.Fatalf("after drops and reopen, seq = %d, want %d", seq, last+1)
	}
}

func TestBoundDropsOldestFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	opts := DefaultOptions()
	opts.MaxBytes = 32 << 10
	o, lb := open(t, path, opts)
	rec := func(seq uint64) []byte { return append(payload(seq), bytes.Repeat([]byte{' '}, 230)...) }
	const n = 500
	for i := range n {
		o.Stage("agg/door-1", rec)
		if i%10 == 9 {
			must(0, o.Commit())
			if s := o.Stats(); s.Bytes > opts.MaxBytes {
				t.Fatalf("after %d records Bytes %d > MaxBytes %d", i+1, s.Bytes, opts.MaxBytes)
			}
		}
	}
	s := o.Stats()
	recs := allPending(t, o)
	if len(recs) != s.Depth || s.Depth == 0 {
		t.Fatalf("Pending has %d records, Depth %d", len(recs), s.Depth)
	}
	// What is left is the newest, contiguous, ending at the last seq.
	for i, r := range recs {
		if want := uint64(n - len(recs) + i + 1); r.Seq != want {
			t.Fatalf("record %d has seq %d, want %d (oldest must go first)", i, r.Seq, want)
		}
	}
	if s.Dropped != uint64(n-len(recs)) || s.OldestSeq != recs[0].Seq {
		t.Fatalf("Dropped %d OldestSeq %d, want %d %d", s.Dropped, s.OldestSeq, n-len(recs), recs[0].Seq)
	}
	if !strings.Contains(lb.String(), "oldest records dropped") {
		t.Errorf("no log line for drops:\n%s", lb)
	}
	// An acked record is deleted, not dropped.
	o.Ack(recs[0].Seq)
	must(0, o.Commit())
	if got := o.Stats().Dropped; got != s.Dropped {
		t.Errorf("ack changed Dropped: %d -> %d", s.Dropped, got)
	}
	must(0, o.Close())

	o, _ = open(t, path, opts)
	defer o.Close()
	if got := o.Stats().Dropped; got != s.Dropped {
		t.Fatalf("Dropped after reopen = %d, want %d", got, s.Dropped)
	}
	// Two more records of the same size: one takes the acked record's room,
	// the other pushes the oldest out.
	seq := o.Stage("agg/door-1", rec)
	o.Stage("agg/door-1", rec)
	must(0, o.Commit())
	if seq != n+1 || o.Stats().LastSeq != n+2 {
		t.Fatalf("Stage after reopen: seq %d LastSeq %d, want %d %d", seq, o.Stats().LastSeq, n+1, n+2)
	}
	if got := o.Stats().Dropped; got != s.Dropped+1 {
		t.Errorf("two more records at the bound: Dropped %d, want %d", got, s.Dropped+1)
	}
}

// copyFile takes the image a power cut would leave: the outbox is still open.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestStateAtomicWithRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox.db")
	o, _ := open(t, path, DefaultOptions())
	defer o.Close()

	if v, err := o.State("agg"); err != nil || v != nil {
		t.Fatalf("State of a fresh file = %q, %v", v, err)
	}
	o.Stage("agg/door-1", payload)
	o.Stage("agg/door-1", payload)
	o.SetState("agg", []byte("window 10:00 entries=2"))
	if v, _ := o.State("agg"); v != nil {
		t.Fatalf("State returned an uncommitted value %q", v)
	}
	must(0, o.Commit())
	copyFile(t, path, filepath.Join(dir, "after1.db"))

	// Staged but never committed: a crash now must show the first commit only.
	o.Stage("agg/door-1", payload)
	o.SetState("agg", []byte("window 10:01 entries=1"))
	o.SetState("other", []byte("x"))
	copyFile(t, path, filepath.Join(dir, "staged.db"))
	must(0, o.Commit())
	o.SetState("other", nil) // delete
	must(0, o.Commit())
	copyFile(t, path, filepath.Join(dir, "after3.db"))

	for _, tc := range []struct {
		file, agg, other string
		seqs             string
	}{
		{"after1.db", "window 10:00 entries=2", "", "[1 2]"},
		{"staged.db", "window 10:00 entries=2", "", "[1 2]"},
		{"after3.db", "window 10:01 entries=1", "", "[1 2 3]"},
	} {
		c, lb := open(t, filepath.Join(dir, tc.file), DefaultOptions())
		agg, _ := c.State("agg")
		other, _ := c.State("other")
		if string(agg) != tc.agg || string(other) != tc.other {
			t.Errorf("%s: state agg=%q other=%q, want %q %q", tc.file, agg, other, tc.agg, tc.other)
		}
		if got := fmt.Sprint(seqsOf(allPending(t, c))); got != tc.seqs {
			t.Errorf("%s: records %s, want %s", tc.file, got, tc.seqs)
		}
		if c.Stats().MovedAside != 0 {
			t.Errorf("%s: crash image treated as corrupt:\n%s", tc.file, lb)
		}
		must(0, c.Close())
	}
}

func TestCommitFailureKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, _ := open(t, path, DefaultOptions())
	defer o.Close()
	o.Stage("store", payload)
	must(0, o.Commit())
	o.Ack(1)

	o.beforeCommit = func() error { return fmt.Errorf("write: %w", syscall.ENOSPC) }
	for range 10 {
		o.Stage("agg/door-1", payload)
	}
	o.SetState("agg", []byte("v2"))
	woke := o.Committed()
	for range 3 {
		err := o.Commit()
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Commit on a full disk = %v, want ENOSPC", err)
		}
	}
	select {
	case <-woke:
		t.Fatal("Committed fired for a failed commit")
	default:
	}
	s := o.Stats()
	if s.Staged != 10 || s.LastCommitErr == "" || s.Depth != 1 || s.AckPending != 1 || s.LastSeq != 1 {
		t.Fatalf("after failed commits: %+v", s)
	}
	if recs := must(o.Pending(0, 100)); len(recs) != 0 {
		t.Fatalf("Pending after failed commit = %v, want none (1 acked, rest uncommitted)", seqsOf(recs))
	}
	if v, _ := o.State("agg"); v != nil {
		t.Fatalf("State shows a value whose commit failed: %q", v)
	}

	o.beforeCommit = nil // space freed
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	s = o.Stats()
	if s.Staged != 0 || s.LastCommitErr != "" || s.Depth != 10 || s.LastSeq != 11 || s.AckPending != 0 {
		t.Fatalf("after retry: %+v", s)
	}
	if got := fmt.Sprint(seqsOf(allPending(t, o))); got != "[2 3 4 5 6 7 8 9 10 11]" {
		t.Fatalf("after retry Pending = %s", got)
	}
	if v, _ := o.State("agg"); string(v) != "v2" {
		t.Fatalf("state after retry = %q", v)
	}
}

func TestFailingCommitsBoundMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	opts := DefaultOptions()
	opts.MaxBytes = MinMaxBytes
	o, _ := open(t, path, opts)
	o.beforeCommit = func() error { return syscall.ENOSPC }
	big := func(uint64) []byte { return make([]byte, 500) }
	for range 200 { // ~100 KB staged against a 16 KB bound
		o.Stage("store", big)
		_ = o.Commit()
	}
	s := o.Stats()
	if s.Staged >= 40 || s.Dropped != uint64(200-s.Staged) {
		t.Fatalf("staged memory not bounded: %+v", s)
	}
	o.beforeCommit = nil
	must(0, o.Close())
	o, _ = open(t, path, opts)
	defer o.Close()
	if got := o.Stats(); got.Dropped != s.Dropped || got.Depth != s.Staged {
		t.Fatalf("after reopen Dropped %d Depth %d, want %d %d", got.Dropped, got.Depth, s.Dropped, s.Staged)
	}
}

func TestLockedFileIsNotMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, _ := open(t, path, DefaultOptions())
	defer o.Close()
	opts := DefaultOptions()
	opts.LockTimeout = 50 * time.Millisecond
	if _, err := Open(path, opts, nil); err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatalf("locked file moved aside: %v", m)
	}
}

// TestConcurrentAckPendingDuringCommit is a publisher draining while the
// pipeline commits: every record is delivered, none after its ack.
func TestConcurrentAckPendingDuringCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	opts := DefaultOptions()
	opts.FlushRecords = 50
	o, _ := open(t, path, opts)
	defer o.Close()
	const total = 3000

	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(2)
	go func() { // publisher
		defer wg.Done()
		acked := map[uint64]bool{}
		var after uint64
		for len(acked) < total {
			wake := o.Committed()
			recs, err := o.Pending(after, 64)
			if err != nil {
				errc <- err
				return
			}
			if len(recs) == 0 {
				select {
				case <-wake:
				case <-time.After(5 * time.Second):
					errc <- fmt.Errorf("stalled with %d acked", len(acked))
					return
				}
				// Restart from the oldest unacked, as a reconnect would.
				after = 0
				continue
			}
			for _, r := range recs {
				if acked[r.Seq] {
					errc <- fmt.Errorf("seq %d returned after its ack", r.Seq)
					return
				}
				if !bytes.Equal(r.Payload, payload(r.Seq)) {
					errc <- fmt.Errorf("seq %d payload %q", r.Seq, r.Payload)
					return
				}
				acked[r.Seq] = true
				o.Ack(r.Seq)
			}
			after = recs[len(recs)-1].Seq
			_ = o.Stats()
		}
	}()
	go func() { // pipeline
		defer wg.Done()
		for i := 0; i < total; i++ {
			o.Stage("agg/door-1", payload)
			if o.NeedsCommit() {
				if err := o.Commit(); err != nil {
					errc <- err
					return
				}
			}
		}
		if err := o.Commit(); err != nil {
			errc <- err
			return
		}
		// Keep committing so the publisher's acks land.
		for o.Stats().AckPending > 0 || o.Stats().Depth > 0 {
			select {
			case err := <-errc:
				errc <- err
				return
			case <-time.After(time.Millisecond):
			}
			if err := o.Commit(); err != nil {
				errc <- err
				return
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if s := o.Stats(); s.Depth != 0 || s.LastSeq != total || s.Dropped != 0 {
		t.Fatalf("final stats %+v", s)
	}
}

func TestDropLogRateLimited(t *testing.T) {
	log, lb := newLogger()
	var d dropLog
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	d.note(log, t0, 5, 5, 1<<20, "p")
	d.note(log, t0.Add(time.Second), 7, 12, 1<<20, "p")
	d.note(log, t0.Add(30*time.Second), 1, 13, 1<<20, "p")
	d.note(log, t0.Add(61*time.Second), 2, 15, 1<<20, "p")
	lines := strings.Split(strings.TrimSpace(lb.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "dropped=5 ") || !strings.Contains(lines[1], "dropped=10 dropped_total=15") {
		t.Fatalf("drop log lines:\n%s", lb)
	}
}

// txid is bbolt's transaction counter: it grows by one per write
// transaction, i.e. per durable commit (bbolt fsyncs each one: the data
// pages, then the meta page).
func txid(t *testing.T, o *Outbox) int {
	t.Helper()
	tx, err := o.db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	return tx.ID()
}

// TestOneTransactionPerCommit: 5000 records with group commits of 1000 and
// acks in between cost exactly 5 write transactions; acks alone cost none
// until the next Commit, and an idle Commit costs none.
func TestOneTransactionPerCommit(t *testing.T) {
	o, _ := open(t, filepath.Join(t.TempDir(), "outbox.db"), DefaultOptions())
	defer o.Close()
	id0 := txid(t, o)
	commits := 0
	for i := range 5000 {
		o.Stage("agg/door-1", payload)
		if i%7 == 0 && i > 0 {
			o.Ack(uint64(i - 3)) // acks from the publisher ride along
		}
		if o.NeedsCommit() {
			must(0, o.Commit())
			commits++
		}
	}
	if got := txid(t, o) - id0; commits != 5 || got != 5 {
		t.Fatalf("%d Commit calls wrote %d transactions, want 5 and 5", commits, got)
	}
	o.Ack(4999, 5000)
	must(0, o.Commit()) // acks only: one transaction
	must(0, o.Commit()) // nothing: none
	if got := txid(t, o) - id0; got != 6 {
		t.Fatalf("ack-only and idle commits: %d transactions, want 6", got)
	}
	if s := o.Stats(); s.Commits != 6 || s.Depth != 5000-714-2 {
		t.Fatalf("stats %+v", s)
	}
}
