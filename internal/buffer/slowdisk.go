//go:build slowdisk

package buffer

import (
	"os"
	"time"
)

// A test build (-tags slowdisk) for benchmarks only: each commit holds its
// transaction EDGE_AGENT_FSYNC_DELAY longer per fdatasync (a bbolt commit
// makes two), as an SD card's slow flush does. bbolt has no hook on its
// fdatasync, so the delay sits at the end of the transaction, under the
// same writer lock.
var fsyncDelay = func() time.Duration {
	d, err := time.ParseDuration(os.Getenv("EDGE_AGENT_FSYNC_DELAY"))
	if err != nil || d < 0 {
		return 0
	}
	return d
}()

func slowDisk() {
	if fsyncDelay > 0 {
		time.Sleep(2 * fsyncDelay)
	}
}
