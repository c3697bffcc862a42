package buffer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrClosed is returned by calls on a closed Outbox.
var ErrClosed = errors.New("buffer: outbox closed")

// Record is one committed message waiting for its ack.
type Record struct {
	Seq     uint64
	Topic   string
	Payload []byte
}

// Stats is a snapshot for status and health reporting.
type Stats struct {
	Depth         int       // records stored (acks are deleted at the next commit)
	Bytes         int64     // their accounted size, the figure MaxBytes bounds
	OldestSeq     uint64    // 0 when empty
	OldestAt      time.Time // commit time of the oldest record; zero when empty
	Dropped       uint64    // records dropped by the bound since the file was created (persistent)
	LastSeq       uint64    // highest committed seq
	Commits       uint64    // successful commits since Open
	LastCommitErr string    // error of the last commit; "" once one succeeds
	LastCommitAt  time.Time // time of the last successful commit
	Staged        int       // records staged, not yet committed
	AckPending    int       // acks not yet deleted by a commit
	MovedAside    int       // corrupt files moved aside since Open (Open included)
}

var (
	bucketRecords = []byte("records")
	bucketState   = []byte("state")
	bucketMeta    = []byte("meta")

	keyMeta = []byte("m")
)

const formatVersion = 1

type stagedRecord struct {
	seq     uint64
	topic   string
	payload []byte
}

// Outbox is the durable outbox. Stage, SetState, Commit and Close belong to
// one pipeline goroutine; Pending, Ack, Committed, Stats and State may be
// called from any goroutine.
type Outbox struct {
	path string
	opts Options
	log  *slog.Logger
	now  func() time.Time

	// Pipeline goroutine only.
	staged       []stagedRecord
	stagedBytes  int64
	stagedState  map[string][]byte // nil value: delete
	lastSeq      uint64            // last seq handed out by Stage
	encBuf       []byte
	dropLog      dropLog
	ackBuf       []uint64
	beforeCommit func() error // test seam: runs inside the tx after all writes; an error aborts it
	// synced records the file's image after Open and each completed
	// commit: chaos builds only (synced_chaos.go), nil otherwise.
	synced func() error

	// viewMu: Pending holds it shared for the life of its read tx; Commit
	// holds it exclusively only to retire acks it has deleted, and to swap
	// the db after a corrupt file. So a Pending never sees a deleted record
	// whose ack it has already forgotten.
	viewMu sync.RWMutex
	db     *bolt.DB
	closed bool

	mu       sync.Mutex // guards everything below
	acked    map[uint64]struct{}
	inflight map[uint64]struct{} // acks taken by the commit under way or a failed one
	state    map[string][]byte   // committed state
	stats    Stats               // Dropped: the persisted counter
	// extraDrops are drops not yet in the file: staged records dropped to
	// bound memory while commits fail, corrupt records Pending skipped,
	// records lost with a replaced file. The next commit persists them.
	extraDrops uint64
	committed  chan struct{}

	nStaged atomic.Int64
	// readPanic is set when Pending recovered a panic: the file is corrupt
	// where the publisher reads, and the next Commit replaces it, or the
	// publisher would be stuck on it for good.
	readPanic atomic.Pointer[panicError]
}

// Open opens or creates the outbox at path. A file that is unusable (not a
// bbolt file, truncated, failing the consistency check, a directory,
// unreadable) is renamed aside as path.corrupt-<UTC time>, logged at Error,
// and a fresh file is started; the seq carries on from what could be salvaged
// so seqs are not reused. A file locked by another process is an error.
func Open(path string, opts Options, log *slog.Logger) (*Outbox, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	o := &Outbox{
		path:      path,
		opts:      opts,
		log:       log,
		now:       now,
		acked:     map[uint64]struct{}{},
		committed: make(chan struct{}),
		synced:    syncedHook(path),
	}
	db, st, err := openFile(path, opts, 0)
	if err != nil {
		if !movable(err) {
			return nil, fmt.Errorf("buffer: open %s: %w", path, err)
		}
		db, st, err = o.replace(err, st, 0)
		if err != nil {
			return nil, err
		}
	}
	// A restart after a crash in a commit's fdatasync reads that commit
	// from the page cache: make it durable before anything is published.
	if err := guard(db.Sync); err != nil {
		log.Warn("buffer: fdatasync at open failed", "path", path, "err", err)
	}
	o.db = db
	o.adopt(st)
	o.recordSynced()
	log.Info("buffer: outbox open", "path", path, "depth", st.depth, "bytes", st.bytes,
		"last_seq", st.seq, "dropped", st.dropped, "check", st.checkTime.Round(time.Millisecond).String())
	return o, nil
}

// adopt takes over what openFile read.
func (o *Outbox) adopt(st *fileState) {
	o.lastSeq = st.seq
	o.mu.Lock()
	o.state = st.state
	o.stats.Depth = st.depth
	o.stats.Bytes = st.bytes
	o.stats.OldestSeq = st.oldestSeq
	o.stats.OldestAt = st.oldestAt
	o.stats.Dropped = st.dropped
	o.stats.LastSeq = st.seq
	o.mu.Unlock()
}

// replace moves the unusable file aside and opens a fresh one whose seq
// starts past everything the old file could have handed out.
func (o *Outbox) replace(cause error, old *fileState, lostRecords int) (*bolt.DB, *fileState, error) {
	aside, err := moveAside(o.path, o.now(), o.opts.KeepCorrupt)
	if err != nil {
		return nil, nil, fmt.Errorf("buffer: %s is unusable (%v) and could not be moved aside: %w", o.path, cause, err)
	}
	floor := uint64(0)
	salvaged := old != nil && old.seqKnown
	if salvaged {
		floor = old.seq
	} else {
		// Nothing salvaged: wall-clock microseconds are past any seq an
		// earlier file could have reached at under a million records a second.
		floor = uint64(max(o.now().UnixMicro(), 0))
	}
	floor = max(floor, o.lastSeq)
	o.log.Error("buffer: db file unusable; moved aside, starting a fresh one",
		"path", o.path, "moved_to", aside, "err", cause.Error(),
		"seq_from", floor, "seq_salvaged", salvaged, "records_lost", lostRecords)
	db, st, err := openFile(o.path, o.opts, floor)
	if err != nil {
		return nil, nil, fmt.Errorf("buffer: open fresh %s after moving the old one aside: %w", o.path, err)
	}
	o.mu.Lock()
	o.stats.MovedAside++
	o.mu.Unlock()
	return db, st, nil
}

// Stage adds a record, not durable until Commit. build gets the record's
// seq (to put in the payload) and returns the payload. Seqs increase by one
// per record and are never reused once committed, even after drops, acks,
// a restart or a corrupt file.
func (o *Outbox) Stage(topic string, build func(seq uint64) []byte) uint64 {
	o.lastSeq++
	seq := o.lastSeq
	p := build(seq)
	o.staged = append(o.staged, stagedRecord{seq: seq, topic: topic, payload: p})
	o.stagedBytes += int64(8 + RecordOverhead + encodedLen(topic, p, 1<<40))
	// While commits fail (a full disk), memory is bounded like the file:
	// the oldest staged records go first.
	for o.stagedBytes > o.opts.MaxBytes && len(o.staged) > 1 {
		d := o.staged[0]
		o.stagedBytes -= int64(8 + RecordOverhead + encodedLen(d.topic, d.payload, 1<<40))
		o.staged[0] = stagedRecord{}
		o.staged = o.staged[1:]
		o.mu.Lock()
		o.extraDrops++
		o.mu.Unlock()
	}
	o.nStaged.Store(int64(len(o.staged)))
	return seq
}

// SetState stages a state value, committed in the same transaction as the
// records staged with it. A nil val deletes the key.
func (o *Outbox) SetState(key string, val []byte) {
	if o.stagedState == nil {
		o.stagedState = map[string][]byte{}
	}
	o.stagedState[key] = slices.Clone(val)
}

// State returns the committed value of key (nil if absent). Values staged
// but not yet committed are not returned: after a crash only committed
// state exists, and State says what that is.
func (o *Outbox) State(key string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state == nil {
		return nil, ErrClosed
	}
	return slices.Clone(o.state[key]), nil
}

// NeedsCommit reports that FlushRecords or more records are staged.
func (o *Outbox) NeedsCommit() bool { return len(o.staged) >= o.opts.FlushRecords }

// FlushInterval is the configured flush interval, for the caller's timer.
func (o *Outbox) FlushInterval() time.Duration { return o.opts.FlushInterval }

// Committed returns a channel closed at the next successful commit.
func (o *Outbox) Committed() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.committed
}

// Ack marks records as delivered. They are no longer returned by Pending and
// are deleted by the next Commit (an ack never commits on its own). Acking an
// unknown or dropped seq is harmless.
func (o *Outbox) Ack(seqs ...uint64) {
	o.mu.Lock()
	for _, s := range seqs {
		o.acked[s] = struct{}{}
	}
	o.mu.Unlock()
}

// Stats returns a snapshot.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	s := o.stats
	s.Dropped += o.extraDrops
	s.AckPending = len(o.acked) + len(o.inflight)
	o.mu.Unlock()
	s.Staged = int(o.nStaged.Load())
	return s
}

// Pending returns up to max committed, unacked records with seq > after, in
// ascending seq order.
func (o *Outbox) Pending(after uint64, max int) (recs []Record, err error) {
	if max <= 0 {
		return nil, nil
	}
	o.viewMu.RLock()
	defer o.viewMu.RUnlock()
	if o.closed {
		return nil, ErrClosed
	}
	var bad []uint64
	err = guard(func() error {
		return o.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			if b == nil {
				return fmt.Errorf("bucket %q missing", bucketRecords)
			}
			c := b.Cursor()
			o.mu.Lock()
			defer o.mu.Unlock()
			// Only what a returned Commit made durable: bbolt shows a commit
			// to new readers once its meta page is written, before the
			// fdatasync after it returns, and a power cut in between takes
			// it back (its seqs and windows then come again, otherwise).
			durable := o.stats.LastSeq
			for k, v := c.Seek(seqKey(after + 1)); k != nil && len(recs) < max; k, v = c.Next() {
				seq := binary.BigEndian.Uint64(k)
				if seq > durable {
					break
				}
				if o.isAcked(seq) {
					continue
				}
				_, topic, payload, derr := decodeRecord(k, v)
				if derr != nil {
					bad = append(bad, seq)
					continue
				}
				recs = append(recs, Record{Seq: seq, Topic: string(topic), Payload: slices.Clone(payload)})
			}
			return nil
		})
	})
	if err != nil {
		var pe *panicError
		if errors.As(err, &pe) {
			o.readPanic.CompareAndSwap(nil, pe)
		}
		return nil, fmt.Errorf("buffer: pending: %w", err)
	}
	if len(bad) > 0 {
		// A record rotted after Open. Skipping it keeps the publisher moving;
		// acking it deletes it at the next commit. Counted as dropped.
		o.log.Error("buffer: corrupt records skipped", "path", o.path, "seqs", bad)
		o.mu.Lock()
		for _, s := range bad {
			o.acked[s] = struct{}{}
		}
		o.extraDrops += uint64(len(bad))
		o.mu.Unlock()
	}
	return recs, nil
}

func (o *Outbox) isAcked(seq uint64) bool {
	if _, ok := o.acked[seq]; ok {
		return true
	}
	_, ok := o.inflight[seq]
	return ok
}

// Commit writes everything staged (records, state) and deletes acked records
// in one bbolt transaction, drops the oldest records beyond MaxBytes, and
// wakes Committed waiters. On error (a full disk, say) nothing staged is
// lost: the next Commit retries it. With nothing to do it does not write.
func (o *Outbox) Commit() error {
	o.viewMu.RLock()
	closed := o.closed
	o.viewMu.RUnlock()
	if closed {
		return ErrClosed
	}
	if pe := o.readPanic.Swap(nil); pe != nil {
		if err := o.replaceLive(pe); err != nil {
			return fmt.Errorf("buffer: commit: %w", err)
		}
	}
	o.mu.Lock()
	if len(o.acked) > 0 {
		if o.inflight == nil {
			o.inflight, o.acked = o.acked, map[uint64]struct{}{}
		} else {
			for s := range o.acked {
				o.inflight[s] = struct{}{}
			}
			clear(o.acked)
		}
	}
	o.ackBuf = o.ackBuf[:0]
	for s := range o.inflight {
		o.ackBuf = append(o.ackBuf, s)
	}
	extra := o.extraDrops
	prevDropped := o.stats.Dropped
	o.mu.Unlock()
	slices.Sort(o.ackBuf)

	if len(o.staged) == 0 && len(o.stagedState) == 0 && len(o.ackBuf) == 0 && extra == 0 {
		return nil
	}
	res, err := o.commitTx(prevDropped + extra)
	var pe *panicError
	if errors.As(err, &pe) {
		// bbolt panicked on a corrupt page: the file cannot be trusted.
		// Replace it and commit what is staged into the fresh one.
		if rerr := o.replaceLive(err); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			o.mu.Lock()
			extra = o.extraDrops
			o.mu.Unlock()
			res, err = o.commitTx(prevDropped + extra)
		}
	}
	if err != nil {
		o.mu.Lock()
		o.stats.LastCommitErr = err.Error()
		o.mu.Unlock()
		return fmt.Errorf("buffer: commit: %w", err)
	}

	o.staged = o.staged[:0]
	o.stagedBytes = 0
	o.nStaged.Store(0)
	stateDelta := o.stagedState
	o.stagedState = nil

	o.viewMu.Lock()
	o.mu.Lock()
	o.inflight = nil
	for k, v := range stateDelta {
		if v == nil {
			delete(o.state, k)
		} else {
			o.state[k] = v
		}
	}
	o.stats.Depth = res.depth
	o.stats.Bytes = res.bytes
	o.stats.OldestSeq = res.oldestSeq
	o.stats.OldestAt = res.oldestAt
	o.stats.Dropped = res.dropped
	o.extraDrops -= extra
	o.stats.LastSeq = res.lastSeq
	o.stats.Commits++
	o.stats.LastCommitErr = ""
	o.stats.LastCommitAt = res.at
	close(o.committed)
	o.committed = make(chan struct{})
	o.mu.Unlock()
	o.viewMu.Unlock()
	if n := res.dropped - prevDropped - extra; n > 0 {
		o.dropLog.note(o.log, res.at, n, res.dropped, o.opts.MaxBytes, o.path)
	}
	return nil
}

// dropLog rate-limits the "outbox full" line: during a long outage every
// commit drops, and one line a minute with the count says as much.
type dropLog struct {
	last    time.Time
	pending uint64
}

func (d *dropLog) note(log *slog.Logger, now time.Time, n, total uint64, maxBytes int64, path string) {
	d.pending += n
	if !d.last.IsZero() && now.Sub(d.last) < time.Minute && now.After(d.last) {
		return
	}
	log.Warn("buffer: outbox full, oldest records dropped", "path", path,
		"dropped", d.pending, "dropped_total", total, "max_bytes", maxBytes)
	d.last, d.pending = now, 0
}

type commitResult struct {
	depth     int
	bytes     int64
	oldestSeq uint64
	oldestAt  time.Time
	dropped   uint64 // persisted total
	lastSeq   uint64
	at        time.Time
}

// commitTx runs the one read-write transaction of a Commit. The in-memory
// figures are computed in res and applied only if bbolt commits.
func (o *Outbox) commitTx(dropped uint64) (res commitResult, err error) {
	res.at = o.now()
	ms := uint64(max(res.at.UnixMilli(), 0))
	o.mu.Lock()
	res.depth, res.bytes = o.stats.Depth, o.stats.Bytes
	o.mu.Unlock()
	res.dropped = dropped

	// One buffer for all values: bbolt keeps the slices until commit.
	need := 0
	for i := range o.staged {
		need += 8 + encodedLen(o.staged[i].topic, o.staged[i].payload, ms)
	}
	if cap(o.encBuf) < need {
		o.encBuf = make([]byte, 0, need)
	}
	buf := o.encBuf[:0]

	err = guard(func() error {
		return o.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords)
			meta := tx.Bucket(bucketMeta)
			sb := tx.Bucket(bucketState)
			if b == nil || meta == nil || sb == nil {
				return errors.New("buckets missing")
			}
			// Keys only ever grow: full pages waste no space.
			b.FillPercent = 1.0

			for i := range o.staged {
				r := &o.staged[i]
				start := len(buf)
				buf = binary.BigEndian.AppendUint64(buf, r.seq)
				key := buf[start : start+8]
				buf = appendRecord(buf, key, r.topic, r.payload, ms)
				v := buf[start+8:]
				if err := b.Put(key, v); err != nil {
					return err
				}
				res.depth++
				res.bytes += recordSize(v)
			}
			// Acks are sorted: one cursor seek per ack, not a Get and a
			// Delete that each descend from the root.
			dc := b.Cursor()
			for _, s := range o.ackBuf {
				k := seqKey(s)
				if ck, v := dc.Seek(k); ck != nil && bytes.Equal(ck, k) {
					res.depth--
					res.bytes -= recordSize(v)
					if err := dc.Delete(); err != nil {
						return err
					}
				}
			}
			for k, v := range o.stagedState {
				var err error
				if v == nil {
					err = sb.Delete([]byte(k))
				} else {
					err = sb.Put([]byte(k), appendState(nil, k, v))
				}
				if err != nil {
					return err
				}
			}
			c := b.Cursor()
			for res.bytes > o.opts.MaxBytes {
				k, v := c.First()
				if k == nil {
					break
				}
				res.depth--
				res.bytes -= recordSize(v)
				res.dropped++
				if err := c.Delete(); err != nil {
					return err
				}
			}
			if k, v := c.First(); k != nil {
				res.oldestSeq = binary.BigEndian.Uint64(k)
				if cms, _, _, err := decodeRecord(k, v); err == nil {
					res.oldestAt = time.UnixMilli(int64(cms))
				}
			}
			res.lastSeq = o.committedSeq(meta)
			fm := fileMeta{version: formatVersion, seq: res.lastSeq, dropped: res.dropped,
				depth: uint64(res.depth), bytes: uint64(res.bytes)}
			if err := meta.Put(keyMeta, fm.encode()); err != nil {
				return err
			}
			slowDisk()
			if o.beforeCommit != nil {
				return o.beforeCommit()
			}
			return nil
		})
	})
	o.encBuf = buf[:0]
	if err == nil {
		o.recordSynced()
	}
	return res, err
}

// recordSynced runs the chaos builds' synced-image hook.
func (o *Outbox) recordSynced() {
	if o.synced == nil {
		return
	}
	if err := o.synced(); err != nil {
		o.log.Error("buffer: chaos hook could not record the synced image", "path", o.path, "err", err)
	}
}

// committedSeq is the seq to persist: the highest staged, else what the
// file has.
func (o *Outbox) committedSeq(meta *bolt.Bucket) uint64 {
	var s uint64
	if m, ok := decodeFileMeta(meta.Get(keyMeta)); ok {
		s = m.seq
	}
	if n := len(o.staged); n > 0 {
		s = max(s, o.staged[n-1].seq)
	}
	return s
}

// replaceLive swaps a db that panicked for a fresh one. Records in the old
// file are lost to the pipeline (they stay in the moved-aside file) and
// counted as dropped; state and seq carry over from memory.
func (o *Outbox) replaceLive(cause error) error {
	o.viewMu.Lock()
	defer o.viewMu.Unlock()
	// No Close: after a panic bbolt's own locks may be held for good. The
	// handle (fd, mmap, lock on the renamed file) is leaked once.
	o.mu.Lock()
	// Acked records were delivered: not lost, even if not yet deleted.
	lost := max(o.stats.Depth-len(o.acked)-len(o.inflight), 0)
	committedSeq := o.stats.LastSeq
	o.mu.Unlock()
	old := &fileState{seq: max(committedSeq, o.lastSeq), seqKnown: true}
	db, _, err := o.replace(cause, old, lost)
	if err != nil {
		o.closed = true // nothing left to serve from
		return err
	}
	o.db = db
	o.mu.Lock()
	o.extraDrops += uint64(lost)
	o.stats.Depth, o.stats.Bytes, o.stats.OldestSeq, o.stats.OldestAt = 0, 0, 0, time.Time{}
	o.inflight = nil
	clear(o.acked)
	o.mu.Unlock()
	// Write the state cache into the fresh file with the next commit.
	if o.stagedState == nil {
		o.stagedState = map[string][]byte{}
	}
	o.mu.Lock()
	for k, v := range o.state {
		if _, ok := o.stagedState[k]; !ok {
			o.stagedState[k] = v
		}
	}
	o.mu.Unlock()
	o.ackBuf = o.ackBuf[:0]
	return nil
}

// Close commits what is staged and closes the file. If that commit fails
// (a full disk) the staged records are lost and the error says so. Calls
// after the first return nil.
func (o *Outbox) Close() error {
	o.viewMu.RLock()
	closed := o.closed
	o.viewMu.RUnlock()
	if closed {
		return nil
	}
	cerr := o.Commit()
	o.viewMu.Lock()
	defer o.viewMu.Unlock()
	o.closed = true
	err := guard(o.db.Close)
	o.mu.Lock()
	o.state = nil
	o.mu.Unlock()
	return errors.Join(cerr, err)
}
