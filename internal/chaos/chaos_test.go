package chaos

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

// The scale of TestChaosIntegration; scripts/chaos.sh raises it.
var (
	seed     = flag.Uint64("chaos.seed", 0, "seed of the fault schedule (0: from the clock, logged)")
	kills    = flag.Int("chaos.kills", DefaultOptions().Kills, "SIGKILLs")
	cuts     = flag.Int("chaos.power-cuts", DefaultOptions().PowerCuts, "power cuts")
	outages  = flag.Int("chaos.broker-outages", DefaultOptions().BrokerOutages, "broker outages")
	diskFull = flag.Int("chaos.disk-full", DefaultOptions().DiskFull, "disk-full episodes (root only)")
	rounds   = flag.Int("chaos.rounds", 1, "runs, each on a fresh state directory and broker, with the counts split among them")
)

// The real daemon under SIGKILLs, power cuts, broker outages and a full
// disk, at random moments: no committed window lost, no id sent with two
// contents, the daemon back every time.
func TestChaosIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	opts := DefaultOptions()
	opts.Seed = *seed
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	opts.Race = raceEnabled
	n := max(*rounds, 1)
	opts.Bin = BuildDaemon(t, opts.Race)
	total := Summary{Seed: opts.Seed}
	for r := range n {
		o := opts
		o.Seed = opts.Seed + uint64(r)
		// Each round gets its share; the first takes the remainders.
		share := func(total int) int {
			if r == 0 {
				return total - total/n*(n-1)
			}
			return total / n
		}
		o.Kills, o.PowerCuts, o.BrokerOutages, o.DiskFull = share(*kills), share(*cuts), share(*outages), share(*diskFull)
		t.Run(fmt.Sprintf("round-%d", r), func(t *testing.T) {
			sum := Run(t, o)
			t.Log(sum)
			total.Add(sum)
		})
		if t.Failed() {
			break
		}
	}
	// The line scripts/chaos.sh prints; rerun a failure with -chaos.seed.
	t.Log(total)
	if total.DiskFull > 0 && total.DiskFullErrors == 0 {
		t.Error("no disk-full episode made a commit fail: the fault never bit")
	}
}
