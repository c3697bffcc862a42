package buffer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const crashChildEnv = "BUFFER_CRASH_CHILD_DB"

// TestCrashChild is the child of TestSIGKILLNeverLosesCommitted: it stages,
// acks and commits in a loop on the db named by the environment and prints
// "C first last" after every successful Commit, "A seq" before acking.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("child process of TestSIGKILLNeverLosesCommitted")
	}
	o, err := Open(path, DefaultOptions(), nil)
	if err != nil {
		fmt.Println("E", err)
		os.Exit(3)
	}
	w := bufio.NewWriter(os.Stdout)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	for {
		n := 1 + rng.IntN(60)
		first := o.Stage("agg/door-1", payload)
		last := first
		for range n - 1 {
			last = o.Stage("agg/door-1", payload)
		}
		o.SetState("last", seqKey(last))
		// Ack the older part of the backlog, as a publisher would.
		recs, err := o.Pending(0, 40)
		if err != nil {
			fmt.Println("E", err)
			os.Exit(3)
		}
		for _, r := range recs {
			if r.Seq+150 < last {
				fmt.Fprintln(w, "A", r.Seq)
				w.Flush()
				o.Ack(r.Seq)
			}
		}
		if err := o.Commit(); err != nil {
			fmt.Println("E", err)
			os.Exit(3)
		}
		fmt.Fprintln(w, "C", first, last)
		w.Flush()
	}
}

// TestSIGKILLNeverLosesCommitted kills a committing child at random moments
// and checks after each kill that every seq it reported committed is still
// there or was acked, that state and records are from the same commit, and
// that the file opens clean.
func TestSIGKILLNeverLosesCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "outbox.db")
	rng := rand.New(rand.NewPCG(42, 7))
	acked := map[uint64]bool{}
	var maxCommitted, lastSeq uint64
	const kills = 25
	for i := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		commits := 0
		var firstOfRun uint64
		var childErr string
		done := make(chan struct{})
		started := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var a, b uint64
				line := sc.Text()
				mu.Lock()
				switch {
				case strings.HasPrefix(line, "C "):
					fmt.Sscan(line[2:], &a, &b)
					if commits == 0 {
						firstOfRun = a
						close(started)
					}
					commits++
					maxCommitted = max(maxCommitted, b)
				case strings.HasPrefix(line, "A "):
					fmt.Sscan(line[2:], &a)
					acked[a] = true
				case strings.HasPrefix(line, "E "):
					childErr = line
				}
				mu.Unlock()
			}
		}()
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("kill %d: child never committed (%s)", i, childErr)
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-done
		_ = cmd.Wait()
		mu.Lock()
		if childErr != "" {
			t.Fatalf("kill %d: child failed: %s", i, childErr)
		}
		if firstOfRun != lastSeq+1 {
			t.Errorf("kill %d: child started at seq %d, want %d (last committed + 1)", i, firstOfRun, lastSeq+1)
		}

		o, lb := open(t, path, DefaultOptions())
		s := o.Stats()
		if s.MovedAside != 0 {
			t.Fatalf("kill %d: file not clean after SIGKILL:\n%s", i, lb)
		}
		present := map[uint64]bool{}
		for _, r := range allPending(t, o) {
			present[r.Seq] = true
		}
		lost := 0
		for seq := uint64(1); seq <= maxCommitted; seq++ {
			if !present[seq] && !acked[seq] {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("kill %d: %d committed, unacked seqs missing (max committed %d)", i, lost, maxCommitted)
		}
		st, _ := o.State("last")
		if len(st) != 8 || binary.BigEndian.Uint64(st) != s.LastSeq || s.LastSeq < maxCommitted {
			t.Errorf("kill %d: state %x, LastSeq %d, reported committed %d: state not atomic with records", i, st, s.LastSeq, maxCommitted)
		}
		lastSeq = s.LastSeq
		t.Logf("kill %d after %d commits: last seq %d, depth %d", i, commits, s.LastSeq, s.Depth)
		mu.Unlock()
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
