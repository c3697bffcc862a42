package buffer

import (
	"path/filepath"
	"testing"
)

// bbolt shows a commit to new read transactions as soon as it has written
// the meta page, before the fdatasync that makes it durable returns (the
// meta page lives in the mmap; writeMeta releases its lock before syncing).
// A record read then and published could be taken back by a power cut, and
// the window re-closed with other counts under the same id. So Pending
// returns only records of commits whose Commit has returned. The synced
// hook runs exactly in that gap: bbolt is done, Commit has not returned.
func TestPendingNeverReturnsACommitBeforeItIsDurable(t *testing.T) {
	o, _ := open(t, filepath.Join(t.TempDir(), "outbox.db"), DefaultOptions())
	defer o.Close()
	o.Stage("agg/a", payload)
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	var seen []Record
	o.synced = func() error {
		recs, err := o.Pending(0, 100)
		seen = recs
		return err
	}
	o.Stage("agg/a", payload)
	o.Stage("agg/a", payload)
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Seq != 1 {
		t.Fatalf("during the second commit's fdatasync Pending returned %v, want only seq 1", seqsOf(seen))
	}
	o.synced = nil
	if recs := allPending(t, o); len(recs) != 3 {
		t.Fatalf("after the commit returned: %v, want seqs 1-3", seqsOf(recs))
	}
}
