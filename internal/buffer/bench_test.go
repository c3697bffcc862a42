package buffer

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// aggPayload is a ~250-byte aggregate message, the size the agent commits,
// built with one allocation so the benchmark measures the outbox.
func aggPayload(seq uint64) []byte {
	const head = `{"seq":`
	const tail = `,"sensor":"door-1","kind":"beam","window_start":"2026-11-23T10:00:00Z","window_s":60,"entries":12,"exits":9,"passers_by":31,"stop_bys":0,"occupancy":17,"entry_rate_per_min":12.0,"health":{"ok":true,"dropouts":0}}`
	p := make([]byte, 0, 250)
	p = append(p, head...)
	p = strconv.AppendUint(p, seq, 10)
	p = append(p, tail...)
	for len(p) < 250 {
		p = append(p, ' ')
	}
	return p
}

// BenchmarkAppend is the pipeline's write path: Stage and a group commit per
// 1000 records (one bbolt write transaction each). "at-bound" runs with the
// file full, so every commit also drops the oldest 1000.
func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name     string
		maxBytes int64
	}{{"fresh", 1 << 30}, {"at-bound", 8 << 20}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := DefaultOptions()
			opts.MaxBytes = tc.maxBytes
			o, _ := open(b, filepath.Join(b.TempDir(), "outbox.db"), opts)
			defer o.Close()
			if tc.maxBytes < 1<<30 { // fill to the bound first
				for range 40_000 {
					o.Stage("agg/door-1", aggPayload)
					if o.NeedsCommit() {
						must(0, o.Commit())
					}
				}
			}
			commits0 := o.Stats().Commits
			writes0 := pageWrites(o)
			b.SetBytes(250)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for range b.N {
				o.Stage("agg/door-1", aggPayload)
				if o.NeedsCommit() {
					if err := o.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			}
			must(0, o.Commit())
			el := time.Since(start)
			b.StopTimer()
			commits := o.Stats().Commits - commits0
			b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
			b.ReportMetric(float64(commits)/el.Seconds(), "commits/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
			if commits > 0 {
				b.ReportMetric(float64(pageWrites(o)-writes0)/float64(commits), "page-writes/commit")
			}
		})
	}
}

// cpuTime is the process's user+system time: on a shared machine it tells
// the outbox's cost apart from waiting for the CPU or the disk.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pageWrites(o *Outbox) int64 {
	st := o.db.Stats()
	return st.TxStats.GetWrite()
}

// BenchmarkPendingAckDrain is the publisher's backlog drain: Pending(1000),
// Ack them all, and the commit that deletes them. One op = one record.
func BenchmarkPendingAckDrain(b *testing.B) {
	o, _ := open(b, filepath.Join(b.TempDir(), "outbox.db"), DefaultOptions())
	defer o.Close()
	fill := func() {
		for range 20_000 {
			o.Stage("agg/door-1", aggPayload)
			if o.NeedsCommit() {
				must(0, o.Commit())
			}
		}
		must(0, o.Commit())
	}
	fill()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var paused, pausedCPU time.Duration
	var after uint64
	for done := 0; done < b.N; {
		recs, err := o.Pending(after, min(1000, b.N-done))
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) == 0 {
			b.StopTimer()
			p, pc := time.Now(), cpuTime()
			fill()
			paused += time.Since(p)
			pausedCPU += cpuTime() - pc
			b.StartTimer()
			continue
		}
		seqs := make([]uint64, len(recs))
		for i, r := range recs {
			seqs[i] = r.Seq
		}
		o.Ack(seqs...)
		after = seqs[len(seqs)-1]
		if err := o.Commit(); err != nil {
			b.Fatal(err)
		}
		done += len(recs)
	}
	el := time.Since(start) - paused
	b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
	b.ReportMetric(float64((cpuTime()-cpu0-pausedCPU).Microseconds())/float64(b.N), "cpu-µs/record")
}

// BenchmarkOpen64MB is the cost of Open on a full 64 MiB outbox: the CRC
// scan of every record plus tx.Check, and the scan alone (SkipCheck).
func BenchmarkOpen64MB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "outbox.db")
	o, _ := open(b, path, DefaultOptions())
	for o.Stats().Dropped == 0 {
		o.Stage("agg/door-1", aggPayload)
		if o.NeedsCommit() {
			must(0, o.Commit())
		}
	}
	s := o.Stats()
	must(0, o.Close())
	fi, _ := os.Stat(path)
	for _, skip := range []bool{false, true} {
		b.Run(map[bool]string{false: "check", true: "scan-only"}[skip], func(b *testing.B) {
			opts := DefaultOptions()
			opts.SkipCheck = skip
			for b.Loop() {
				o, err := Open(path, opts, nil)
				if err != nil {
					b.Fatal(err)
				}
				if o.Stats().Depth != s.Depth {
					b.Fatalf("depth %d, want %d", o.Stats().Depth, s.Depth)
				}
				must(0, o.Close())
			}
			b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			b.ReportMetric(float64(s.Depth), "records")
		})
	}
}
