package buffer

import (
	"fmt"
	"time"
)

// Options configure an Outbox. Start from DefaultOptions.
type Options struct {
	// MaxBytes bounds the stored records, counted as key + value + a fixed
	// per-record page overhead (see RecordOverhead). When a commit exceeds it,
	// the oldest records are dropped. The file itself is larger by bbolt's
	// page slack and free pages.
	MaxBytes int64
	// FlushInterval is how often the pipeline commits (its timer); the outbox
	// only reports it, the caller owns the timer.
	FlushInterval time.Duration
	// FlushRecords is the number of staged records at which NeedsCommit
	// reports true.
	FlushRecords int
	// LockTimeout is how long Open waits for another process's lock on the
	// file before failing (a locked file is never moved aside).
	LockTimeout time.Duration
	// KeepCorrupt is how many older moved-aside files (path.corrupt-*) are
	// kept besides the one just moved; older ones are deleted so a failing
	// card does not fill up with them.
	KeepCorrupt int
	// PageSize is the bbolt page size of a new file (an existing file keeps
	// its own): 0 is the OS page size. 16 KiB pages need a quarter of the
	// page writes per commit of 4 KiB ones (BenchmarkAppend).
	PageSize int
	// SkipCheck skips bbolt's consistency check (tx.Check) at Open. The
	// record scan (CRC of every record) still runs.
	SkipCheck bool
	// Clock gives commit timestamps; nil means time.Now.
	Clock func() time.Time
}

// DefaultOptions returns the defaults: 64 MiB, 1 s, 1000 records.
func DefaultOptions() Options {
	return Options{
		MaxBytes:      64 << 20,
		FlushInterval: time.Second,
		FlushRecords:  1000,
		LockTimeout:   2 * time.Second,
		KeepCorrupt:   3,
		PageSize:      16 << 10,
	}
}

// MinMaxBytes is the smallest MaxBytes Validate accepts.
const MinMaxBytes = 16 << 10

// Validate reports the first invalid field, naming it.
func (o *Options) Validate() error {
	switch {
	case o.MaxBytes < MinMaxBytes:
		return fmt.Errorf("buffer: Options.MaxBytes must be at least %d bytes, got %d", MinMaxBytes, o.MaxBytes)
	case o.FlushInterval <= 0:
		return fmt.Errorf("buffer: Options.FlushInterval must be positive, got %v", o.FlushInterval)
	case o.FlushRecords < 1:
		return fmt.Errorf("buffer: Options.FlushRecords must be at least 1, got %d", o.FlushRecords)
	case o.LockTimeout < 0:
		return fmt.Errorf("buffer: Options.LockTimeout must not be negative, got %v", o.LockTimeout)
	case o.KeepCorrupt < 0:
		return fmt.Errorf("buffer: Options.KeepCorrupt must not be negative, got %d", o.KeepCorrupt)
	case o.PageSize != 0 && (o.PageSize < 1024 || o.PageSize > 1<<16 || o.PageSize&(o.PageSize-1) != 0):
		return fmt.Errorf("buffer: Options.PageSize must be 0 or a power of two from 1024 to 65536, got %d", o.PageSize)
	}
	return nil
}
