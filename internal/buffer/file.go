package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// panicError is a panic (or memory fault) recovered from bbolt.
type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("bbolt panicked: %v", p.v) }

// guard runs f turning panics, and faults on the mmap (a corrupt page
// pointing past the end of the file), into a *panicError.
func guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{r}
		}
	}()
	return f()
}

// corruptError says what is wrong with a file's contents.
type corruptError struct{ msg string }

func (c *corruptError) Error() string { return c.msg }

func corrupt(format string, a ...any) error { return &corruptError{fmt.Sprintf(format, a...)} }

// fileState is what Open learns from a file.
type fileState struct {
	seq       uint64 // last seq handed out
	seqKnown  bool   // seq was read (also set on a file that later failed)
	dropped   uint64
	depth     int
	bytes     int64
	oldestSeq uint64
	oldestAt  time.Time
	state     map[string][]byte
	checkTime time.Duration
}

// movable reports whether an Open error means the file itself is unusable
// (moved aside) rather than the environment (returned): a lock held by
// another process, a full or read-only disk, no memory or descriptors are
// not the file's fault, and moving it would lose a good buffer.
func movable(err error) bool {
	for _, e := range []error{bolt.ErrTimeout, syscall.ENOSPC, syscall.EROFS, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EDQUOT, syscall.ENOENT} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// openFile opens path and verifies it; on a fresh or verified file it makes
// sure the buckets exist and the seq is at least seqFloor. On error the
// returned fileState holds whatever was salvaged (possibly nil).
func openFile(path string, opts Options, seqFloor uint64) (*bolt.DB, *fileState, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, nil, err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, corrupt("%s is a %s, not a db file", path, kind(fi.Mode()))
	}
	if err := checkMeta(path); err != nil {
		return nil, nil, err
	}
	bo := &bolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bolt.FreelistMapType,
		PageSize:     opts.PageSize,
		// No InitialMmapSize: bbolt would grow the file to it at the first
		// commit, and the mmap doubles anyway so remaps are rare.
	}
	if bo.Timeout == 0 {
		bo.Timeout = time.Nanosecond // bbolt treats 0 as wait forever
	}
	var db *bolt.DB
	err := guard(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, bo)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	st := &fileState{}
	err = guard(func() error { return verify(db, opts, st) })
	if err == nil {
		err = guard(func() error { return initFile(db, st, seqFloor) })
	}
	if err != nil {
		var pe *panicError
		if !errors.As(err, &pe) {
			_ = guard(db.Close)
		} // else bbolt's locks may be held for good: leak the handle, never hang
		return nil, st, err
	}
	return db, st, nil
}

// checkMeta reads bbolt's two meta pages (page header 16 bytes; then magic,
// version, page size, flags u32; root, sequence, freelist, pgid, txid,
// checksum u64; checksum = FNV-64a of the 56 bytes before it) and rejects a
// file whose chosen meta points past its end: bbolt would map the missing
// pages and fault on them (SIGBUS) while loading the freelist. Then it walks
// the page tree with plain reads (walkPages) so that bbolt never meets a
// cycle or a page out of bounds.
func checkMeta(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // created by bolt.Open
	} else if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil // bbolt initialises an empty file
	}
	type meta struct{ pageSize, root, freelist, pgid, txid uint64 }
	read := func(off int64) (meta, bool) {
		var b [16 + 64]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			return meta{}, false
		}
		m := b[16:]
		h := fnv.New64a()
		h.Write(m[:56])
		if binary.LittleEndian.Uint32(m[0:]) != 0xED0CDAED || h.Sum64() != binary.LittleEndian.Uint64(m[56:]) {
			return meta{}, false
		}
		u := func(i int) uint64 { return binary.LittleEndian.Uint64(m[i:]) }
		return meta{uint64(binary.LittleEndian.Uint32(m[8:])), u(16), u(32), u(40), u(48)}, true
	}
	m0, ok0 := read(0)
	var m1 meta
	ok1 := false
	if ok0 {
		m1, ok1 = read(int64(m0.pageSize))
	} else {
		// Page size unknown: meta 1 is the one at its own page size.
		for ps := int64(1024); ps <= 1<<16 && !ok1; ps *= 2 {
			m1, ok1 = read(ps)
			ok1 = ok1 && int64(m1.pageSize) == ps
		}
	}
	if !ok0 && !ok1 {
		return corrupt("no valid meta page (not a bbolt file, or both meta pages damaged)")
	}
	m := m0
	if !ok0 || (ok1 && m1.txid > m0.txid) {
		m = m1
	}
	if m.pageSize == 0 || m.pgid > uint64(fi.Size())/m.pageSize {
		return corrupt("file is %d bytes, its meta page says %d pages of %d: truncated", fi.Size(), m.pgid, m.pageSize)
	}
	return walkPages(f, m.pageSize, m.pgid, m.root, m.freelist)
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// verify reads the whole file: meta first (so the seq can be salvaged), then
// every record with its CRC, then bbolt's own consistency check. The record
// walk touches every page under guard first, so tx.Check (whose goroutine
// is not guarded against faults) only reads pages already proven mapped.
func verify(db *bolt.DB, opts Options, st *fileState) error {
	return db.View(func(tx *bolt.Tx) error {
		fi, err := os.Stat(db.Path())
		if err != nil {
			return err
		}
		if fi.Size() < tx.Size() {
			return corrupt("file is %d bytes, its meta page says %d: truncated", fi.Size(), tx.Size())
		}
		meta := tx.Bucket(bucketMeta)
		recs := tx.Bucket(bucketRecords)
		sb := tx.Bucket(bucketState)
		if meta == nil && recs == nil && sb == nil {
			if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				return corrupt("a bbolt file of something else (bucket %q)", name)
			}); err != nil {
				return err
			}
			st.state = map[string][]byte{}
			st.seqKnown = true
			return nil // fresh file
		}
		if meta == nil || recs == nil || sb == nil {
			return corrupt("missing buckets (meta %t, records %t, state %t)", meta != nil, recs != nil, sb != nil)
		}
		fm, ok := decodeFileMeta(meta.Get(keyMeta))
		if !ok {
			return corrupt("meta value damaged")
		}
		if fm.version != formatVersion {
			return corrupt("format version %d, want %d", fm.version, formatVersion)
		}
		st.seq, st.seqKnown, st.dropped = fm.seq, true, fm.dropped

		var prev uint64
		c := recs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return corrupt("record key of %d bytes", len(k))
			}
			seq := binary.BigEndian.Uint64(k)
			if seq <= prev {
				return corrupt("record keys out of order: %d after %d", seq, prev)
			}
			prev = seq
			if seq > st.seq {
				st.seq = seq // a key past the meta seq: salvage the higher
				return corrupt("record %d is past the last seq in meta", seq)
			}
			ms, _, _, err := decodeRecord(k, v)
			if err != nil {
				return corrupt("record %d: %v", seq, err)
			}
			if st.depth == 0 {
				st.oldestSeq, st.oldestAt = seq, time.UnixMilli(int64(ms))
			}
			st.depth++
			st.bytes += recordSize(v)
		}
		// A corrupt page can hide records (a smaller element count) without
		// breaking bbolt's structure: the totals in meta catch it.
		if fm.depth != uint64(st.depth) || fm.bytes != uint64(st.bytes) {
			return corrupt("found %d records of %d bytes, meta says %d of %d", st.depth, st.bytes, fm.depth, fm.bytes)
		}
		st.state = map[string][]byte{}
		if err := sb.ForEach(func(k, v []byte) error {
			if v == nil {
				return corrupt("nested bucket %q in state", k)
			}
			val, ok := decodeState(k, v)
			if !ok {
				return corrupt("state %q damaged", k)
			}
			st.state[string(k)] = slices.Clone(val)
			return nil
		}); err != nil {
			return err
		}

		if !opts.SkipCheck {
			start := time.Now()
			var errs []string
			for e := range tx.Check() {
				if len(errs) < 5 {
					errs = append(errs, e.Error())
				}
			}
			st.checkTime = time.Since(start)
			if len(errs) > 0 {
				return corrupt("consistency check: %s", strings.Join(errs, "; "))
			}
		}
		return nil
	})
}

// initFile creates the buckets of a fresh file and lifts its seq to floor.
// It writes only when something is missing, so a normal Open does no fsync.
func initFile(db *bolt.DB, st *fileState, floor uint64) error {
	fresh := false
	if err := db.View(func(tx *bolt.Tx) error {
		fresh = tx.Bucket(bucketMeta) == nil
		return nil
	}); err != nil {
		return err
	}
	if !fresh && st.seq >= floor {
		return nil
	}
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketRecords, bucketState, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		st.seq = max(st.seq, floor)
		fm := fileMeta{version: formatVersion, seq: st.seq, dropped: st.dropped,
			depth: uint64(st.depth), bytes: uint64(st.bytes)}
		return meta.Put(keyMeta, fm.encode())
	})
}

// moveAside renames path to path.corrupt-<UTC time> and deletes the oldest
// moved-aside files beyond keep.
func moveAside(path string, now time.Time, keep int) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405.000Z")
	aside := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	old, _ := filepath.Glob(path + ".corrupt-*")
	slices.Sort(old) // the timestamp sorts by time
	old = slices.DeleteFunc(old, func(p string) bool { return p == aside })
	for len(old) > keep {
		// Only plain files: a directory someone put there is left alone.
		if fi, err := os.Lstat(old[0]); err == nil && fi.Mode().IsRegular() {
			_ = os.Remove(old[0])
		}
		old = old[1:]
	}
	return aside, nil
}
