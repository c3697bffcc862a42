package chaos

import (
	"flag"
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
	opts.Kills, opts.PowerCuts, opts.BrokerOutages, opts.DiskFull = *kills, *cuts, *outages, *diskFull
	opts.Race = raceEnabled
	sum := Run(t, opts)
	// The line scripts/chaos.sh prints; rerun a failure with -chaos.seed.
	t.Log(sum)
}
