// Package chaos drives the real edge-agent daemon through faults and checks
// by message id that nothing committed was lost: SIGKILLs (restarted as
// systemd would), broker outages, a full state filesystem (a tmpfs it
// mounts when root) and power cuts (a restart from a torn copy of the last
// synced outbox image, see TornImage).
//
// Run is the whole scenario (TestChaosIntegration, scripts/chaos.sh). Its
// parts are there for other fault tests: BuildDaemon and Daemon (start,
// SIGKILL, restart, status), MountDisk
// (fill and free a small filesystem), PowerCut, the books in
// internal/testutil/ledger (a recording subscriber, the outbox left, the
// check) and the store's config in internal/testutil/simstore.
package chaos

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/testutil/ledger"
	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
	"github.com/omo-edge/edge-agent/internal/testutil/simstore"
)

// Options configure Run. The counts are at least what happens: a kill
// during a broker outage or on a full disk adds one.
type Options struct {
	Seed                                      uint64
	Kills, PowerCuts, BrokerOutages, DiskFull int
	// MinUp and MaxUp bound how long the daemon runs between faults.
	MinUp, MaxUp time.Duration
	// Race builds the daemon with the race detector.
	Race bool
	// Sensors is the number of simulated sensors (at least 2).
	Sensors int
	// Bin is the daemon binary to run; "" builds one (BuildDaemon).
	Bin string
}

// DefaultOptions is the CI run's scale.
func DefaultOptions() Options {
	return Options{Seed: 1, Kills: 20, PowerCuts: 4, BrokerOutages: 3, DiskFull: 1,
		MinUp: 300 * time.Millisecond, MaxUp: 1500 * time.Millisecond, Sensors: 24}
}

// Summary is what a run did and found.
type Summary struct {
	Seed                                      uint64
	Kills, PowerCuts, BrokerOutages, DiskFull int
	// DiskFullErrors counts disk-full episodes in which the daemon reported
	// a failed commit (the fault bit), out of DiskFull.
	DiskFullErrors int
	// TornChunks and TornKept add up the power cuts' Tears; MetaKept counts
	// cuts that kept the commit in flight.
	TornChunks, TornKept, MetaKept int
	// CommittedIDs is the number of windows read from synced images at
	// crashes, checked by id (ledger.CheckIDs).
	CommittedIDs int
	Starts       int
	Elapsed      time.Duration
	ledger.Result
}

// Add adds up the counts of another run (a round of scripts/chaos.sh).
func (s *Summary) Add(o Summary) {
	s.Kills += o.Kills
	s.PowerCuts += o.PowerCuts
	s.BrokerOutages += o.BrokerOutages
	s.DiskFull += o.DiskFull
	s.DiskFullErrors += o.DiskFullErrors
	s.TornChunks += o.TornChunks
	s.TornKept += o.TornKept
	s.MetaKept += o.MetaKept
	s.CommittedIDs += o.CommittedIDs
	s.Starts += o.Starts
	s.Elapsed += o.Elapsed
	s.Committed += o.Committed
	s.Delivered += o.Delivered
	s.Received += o.Received
	s.InOutbox += o.InOutbox
	s.Lost += o.Lost
	s.Differing += o.Differing
	s.Problems = append(s.Problems, o.Problems...)
}

func (s Summary) String() string {
	return fmt.Sprintf("chaos: kills=%d broker_outages=%d disk_full=%d power_cuts=%d committed=%d delivered=%d in_outbox=%d lost=%d differing=%d"+
		" (seed=%d starts=%d ids_checked=%d received=%d disk_full_commit_errors=%d torn_chunks_kept=%d/%d meta_kept=%d elapsed=%s)",
		s.Kills, s.BrokerOutages, s.DiskFull, s.PowerCuts, s.Committed, s.Delivered, s.InOutbox, s.Lost, s.Differing,
		s.Seed, s.Starts, s.CommittedIDs, s.Received, s.DiskFullErrors, s.TornKept, s.TornChunks, s.MetaKept, s.Elapsed.Round(time.Second))
}

type fault int

const (
	faultKill fault = iota
	faultPowerCut
	faultBrokerOutage
	faultDiskFull
)

// Run runs the scenario: the faults of opts in a random (seeded) order,
// each after a random up-time, then a drain, a clean stop and the check.
// It fails t on a lost or differing window, a daemon that did not come back
// on its own, or a file moved aside; the summary is returned either way.
func Run(t testing.TB, opts Options) Summary {
	t.Helper()
	start := time.Now()
	sum := Summary{Seed: opts.Seed}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6368616f73))
	bin := opts.Bin
	if bin == "" {
		bin = BuildDaemon(t, opts.Race)
	}

	mq := mosquitto.Start(t, mosquitto.Options{Persistent: true})
	col := ledger.Collect(t, mq.URL(), "chaos-cloud")
	var disk *Disk
	stateDir := filepath.Join(t.TempDir(), "state")
	if opts.DiskFull > 0 {
		var ok bool
		if disk, ok = MountDisk(t, 16<<20); ok {
			stateDir = disk.Dir
		} else {
			t.Logf("chaos: not root or no mount: %d disk-full episodes skipped", opts.DiskFull)
			opts.DiskFull = 0
		}
	}
	run := t.TempDir()
	// A bound far above what a run buffers: no window is dropped.
	store := simstore.Config{Broker: mq.URL(), StateDir: stateDir, Socket: filepath.Join(run, "status.sock"),
		Extra: "  max_bytes: 4MiB\n", Sensors: opts.Sensors}
	cfg := filepath.Join(run, "agent.yaml")
	if err := os.WriteFile(cfg, []byte(store.YAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	outbox := filepath.Join(stateDir, "outbox.db")
	synced := filepath.Join(run, "outbox.synced")
	d := &Daemon{Bin: bin, Config: cfg, Socket: store.Socket, Log: logWriter{t},
		Env: []string{buffer.SyncedImageEnv + "=" + synced, buffer.SyncedDelayEnv + "=100ms"}}
	t.Cleanup(d.Kill)

	var plan []fault
	for f, n := range []int{opts.Kills, opts.PowerCuts, opts.BrokerOutages, opts.DiskFull} {
		for range n {
			plan = append(plan, fault(f))
		}
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	t.Logf("chaos: seed %d, %d faults: %d kills, %d power cuts, %d broker outages, %d disk-full", opts.Seed, len(plan),
		opts.Kills, opts.PowerCuts, opts.BrokerOutages, opts.DiskFull)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("chaos (seed %d): %v", opts.Seed, err)
		}
	}
	up := func() time.Duration {
		return opts.MinUp + time.Duration(rng.Int64N(int64(opts.MaxUp-opts.MinUp)+1))
	}
	// alive fails the run if the daemon ended on its own.
	alive := func(when string) {
		t.Helper()
		if ended, err := d.Exited(); ended {
			t.Fatalf("chaos (seed %d): the daemon exited on its own %s: %v", opts.Seed, when, err)
		}
	}
	// committed holds, by id, every window in the synced image at the
	// moment of a crash: durable, so it must reach the cloud or stay
	// buffered, whatever seq it had.
	committed := map[string]ledger.Message{}
	var imageDiffers []string // an id two synced images hold with other contents
	scratch := t.TempDir()
	noteSynced := func() {
		t.Helper()
		msgs, err := readImage(synced, scratch)
		must(err)
		for _, m := range msgs {
			if prev, ok := committed[m.ID]; ok && prev.Body != m.Body {
				imageDiffers = append(imageDiffers, fmt.Sprintf("id %s committed as\n%s\nthen as\n%s", m.ID, prev.Body, m.Body))
			}
			committed[m.ID] = m
		}
	}
	restart := func() {
		d.Kill()
		clearPending(synced)
		noteSynced()
		sum.Kills++
		must(d.Start())
	}
	ready := func(what string) { must(d.WaitStatus(what, 30*time.Second, func(agent.Report) bool { return true })) }

	must(d.Start())
	ready("the first start")
	for i, f := range plan {
		time.Sleep(up())
		alive(fmt.Sprintf("before fault %d", i))
		switch f {
		case faultKill:
			restart()
		case faultPowerCut:
			switch rng.IntN(4) {
			case 0: // anywhere
			case 1: // in the middle of a commit, not between two
				waitFile(synced+".pending", time.Second)
			default:
				// While a commit syncs and the cloud just got a message: the
				// moment a record published before it was durable would be
				// taken back.
				if !inSyncWithDelivery(synced+".pending", col, 3*time.Second) {
					waitFile(synced+".pending", time.Second)
				}
			}
			d.Kill()
			clearPending(synced)
			noteSynced()
			tear, err := PowerCut(outbox, synced, rng)
			must(err)
			sum.PowerCuts++
			sum.TornChunks += tear.Chunks
			sum.TornKept += tear.Kept
			if tear.MetaKept {
				sum.MetaKept++
			}
			t.Logf("chaos: fault %d: power cut: %s", i, tear)
			must(d.Start())
		case faultBrokerOutage:
			ready("the daemon before a broker outage")
			pid := d.Pid()
			mq.Stop()
			sum.BrokerOutages++
			time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
			alive("during a broker outage")
			if rng.IntN(3) == 0 {
				restart() // a kill while the backlog waits in the outbox
				pid = d.Pid()
			}
			mq.Restart()
			must(d.WaitStatus("the daemon to reconnect after the outage", 30*time.Second,
				func(r agent.Report) bool { return r.Broker.Connected }))
			if d.Pid() != pid {
				t.Fatalf("chaos: the daemon was restarted during a broker outage")
			}
		case faultDiskFull:
			ready("the daemon before filling its disk")
			pid := d.Pid()
			// Offline, so the outbox has to grow: the case a full SD card
			// hurts (a file with free pages inside keeps committing).
			mq.Stop()
			n, err := disk.Fill()
			must(err)
			sum.DiskFull++
			bit := d.WaitStatus("a commit to fail on the full disk", 60*time.Second,
				func(r agent.Report) bool { return r.Outbox.LastCommitError != "" })
			if bit == nil {
				sum.DiskFullErrors++
			} else {
				t.Logf("chaos: fault %d: disk full (filler %d bytes) but no commit failed: %v", i, n, bit)
			}
			time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
			alive("on a full disk")
			if rng.IntN(2) == 0 {
				restart() // and the restart finds the disk still full
				ready("a restart on a full disk")
				pid = d.Pid()
			}
			must(disk.Free())
			mq.Restart()
			must(d.WaitStatus("commits to succeed and the broker to be back after the disk was freed", 30*time.Second,
				func(r agent.Report) bool { return r.Outbox.LastCommitError == "" && r.Broker.Connected }))
			if d.Pid() != pid {
				t.Fatalf("chaos: the daemon was restarted on a full disk")
			}
			t.Logf("chaos: fault %d: disk full for a while (filler %d bytes), commit failed: %v", i, n, bit == nil)
		}
	}

	// Drain, then a clean stop, then the books.
	must(d.WaitStatus("the backlog to drain", 60*time.Second, func(r agent.Report) bool {
		return r.Broker.Connected && r.Outbox.Depth == 0 && r.Outbox.LastSeq > 0
	}))
	if err := d.Stop(); err != nil {
		t.Fatalf("chaos: the daemon's clean stop: %v", err)
	}
	sum.Starts = d.Starts()
	time.Sleep(500 * time.Millisecond) // the collector takes the last PUBLISHes
	aside, _ := filepath.Glob(outbox + ".corrupt-*")
	left, st, err := ledger.ReadOutbox(outbox)
	if err == nil && len(aside) > 0 {
		err = fmt.Errorf("the outbox was moved aside %d times: %v", len(aside), aside)
	}
	delivered := col.Messages()
	sum.Result = ledger.Check(delivered, left, st)
	var ids []ledger.Message
	for _, m := range committed {
		ids = append(ids, m)
	}
	lost, differing, problems := ledger.CheckIDs(ids, delivered, left)
	sum.Lost += lost
	sum.Differing += differing
	sum.Problems = append(sum.Problems, problems...)
	sum.Differing += len(imageDiffers)
	sum.Problems = append(sum.Problems, imageDiffers[:min(len(imageDiffers), 5)]...)
	sum.CommittedIDs = len(ids)
	sum.Elapsed = time.Since(start)
	if err == nil && st.Dropped > 0 {
		err = fmt.Errorf("%d windows dropped by the outbox bound: the run is not set up to check them", st.Dropped)
	}
	err = errors.Join(err, sum.Err())
	if err != nil {
		t.Errorf("chaos (seed %d): %v", opts.Seed, err)
	}
	return sum
}

// readImage reads the windows of a synced outbox image (through a copy in
// dir: Open may write); none if there is no image yet.
func readImage(image, dir string) ([]ledger.Message, error) {
	b, err := os.ReadFile(image)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	cp := filepath.Join(dir, "image.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		return nil, err
	}
	msgs, _, err := ledger.ReadOutbox(cp)
	if err != nil {
		return nil, fmt.Errorf("the synced image: %w", err)
	}
	return msgs, nil
}

// inSyncWithDelivery returns once a message reaches the collector while
// the pending file exists (a commit's image not yet recorded), or after d.
func inSyncWithDelivery(pending string, col *ledger.Collector, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); {
		if !waitFile(pending, time.Until(end)) {
			return false
		}
		n := col.Len()
		for {
			if _, err := os.Stat(pending); err != nil {
				break
			}
			if col.Len() > n {
				return true
			}
			time.Sleep(time.Millisecond)
		}
	}
	return false
}

// clearPending removes the marker a process killed in a commit's sync
// left, so the next one's commits are told apart.
func clearPending(synced string) { _ = os.Remove(synced + ".pending") }

// waitFile polls for path to exist, up to d.
func waitFile(path string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
	}
	return false
}

// logWriter logs the daemon's lines, less the reconnect attempts of every
// outage.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	for _, noise := range []string{`msg="connect failed"`, `msg="connection lost"`, `msg="broker not reachable at start`} {
		if strings.Contains(line, noise) {
			return len(p), nil
		}
	}
	w.t.Log(line)
	return len(p), nil
}
