package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/fleet"
)

type fleetSimOptions struct {
	stores          int
	broker          string
	brokerCmd       string
	outage          time.Duration
	warmup          time.Duration
	speedup         float64
	reconnectSpread time.Duration
	backoffMax      time.Duration
	backlogRate     float64
	share           string
	dir             string
	idPrefix        string
	output          string
}

func newFleetSimCmd() *cobra.Command {
	opts := &fleetSimOptions{}
	cmd := &cobra.Command{
		Use:   "fleet-sim",
		Short: "Run N simulated stores in one process through a shared broker outage",
		Long: `Runs N stores in one process, each a real agent (its own config, bbolt
outbox, MQTT client id, status and Last Will, the real pipeline and
publisher) fed by simulated pulse counters at an accelerated clock. After a
warm-up the broker is stopped for --outage (store time) and restarted; the
run waits until every store has reconnected and drained its backlog, then
counts what a deduplicating consumer received against what the outboxes
committed. Without --broker an embedded broker is used; with --broker,
--broker-cmd is the command that runs that broker (started, stopped with
SIGTERM and restarted by fleet-sim). Exits 1 when a window was lost or not
delivered. Figures and the plan for larger fleets: docs/FLEET.md.`,
		Example: `  edge-agent fleet-sim --stores 100 --outage 1h
  edge-agent fleet-sim --stores 1000 --broker tcp://127.0.0.1:18830 \
    --broker-cmd 'ulimit -n $(ulimit -Hn); exec mosquitto -c fleet.conf' --output json
  ./scripts/fleet.sh                       # the 1,000-store case against Mosquitto`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			if err := opts.check(); err != nil {
				return withCode(exitUsage, err)
			}
			return runFleetSim(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.stores, "stores", "n", 100, "number of simulated stores")
	f.StringVar(&opts.broker, "broker", "", "broker URL (default: an embedded broker)")
	f.StringVar(&opts.brokerCmd, "broker-cmd", "", "shell command that runs the --broker broker (for the outage)")
	f.DurationVar(&opts.outage, "outage", time.Hour, "shared broker outage, store time")
	f.DurationVar(&opts.warmup, "warmup", 10*time.Minute, "store time before the outage")
	f.Float64Var(&opts.speedup, "speedup", 30, "store time per real time")
	f.DurationVar(&opts.reconnectSpread, "reconnect-spread", 30*time.Second, "the agents' mqtt.reconnect_spread")
	f.DurationVar(&opts.backoffMax, "backoff-max", 2*time.Minute, "the agents' mqtt.backoff_max")
	f.Float64Var(&opts.backlogRate, "backlog-rate", 200, "the agents' mqtt.backlog_rate (msg/s per store)")
	f.StringVar(&opts.share, "share", "", "subscribe the consumer as $share/<group>/... (Mosquitto 2.0 does not restore\n"+
		"shared subscriptions after a restart: windows arriving before the consumer resubscribes are lost; docs/FLEET.md)")
	f.StringVar(&opts.idPrefix, "id-prefix", "store", "store ids are <prefix>-0001...: one prefix per fleet-sim process on a broker")
	f.StringVar(&opts.dir, "dir", "", "keep the stores' state here (default: a temporary directory, removed at exit)")
	outputFlag(cmd, &opts.output)
	return cmd
}

// check refuses flag values the run would otherwise take for "the
// default" (the library's zero values) or refuse later under another name.
func (o *fleetSimOptions) check() error {
	switch {
	case o.stores < 1:
		return fmt.Errorf("--stores %d: want at least 1", o.stores)
	case o.speedup < 1:
		return fmt.Errorf("--speedup %v: want at least 1 (store time per real time)", o.speedup)
	case o.outage <= 0:
		return fmt.Errorf("--outage %v: want a duration above 0 (store time the broker is away)", o.outage)
	case o.warmup <= 0:
		return fmt.Errorf("--warmup %v: want a duration above 0", o.warmup)
	case o.backoffMax <= 0:
		return fmt.Errorf("--backoff-max %v: want a duration above 0", o.backoffMax)
	case o.reconnectSpread < 0:
		return fmt.Errorf("--reconnect-spread %v: want 0 (no floor) or more", o.reconnectSpread)
	case o.backlogRate < 0:
		return fmt.Errorf("--backlog-rate %v: want 0 (unlimited) or more msg/s", o.backlogRate)
	}
	return nil
}

func runFleetSim(ctx context.Context, stdout, stderr io.Writer, opts *fleetSimOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := fleet.Options{Stores: opts.stores, Broker: opts.broker, Outage: opts.outage, Warmup: opts.warmup,
		Speedup: opts.speedup, ReconnectSpread: opts.reconnectSpread, BackoffMax: opts.backoffMax,
		BacklogRate: opts.backlogRate, Share: opts.share, Dir: opts.dir, IDPrefix: opts.idPrefix, Log: newLogger(stderr, "error")}
	o.Progress = func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	if opts.brokerCmd != "" {
		if opts.broker == "" {
			return withCode(exitUsage, fmt.Errorf("--broker-cmd needs --broker (the URL it listens on)"))
		}
		u, err := url.Parse(opts.broker)
		if err != nil || u.Host == "" {
			return withCode(exitUsage, fmt.Errorf("--broker %q: want tcp://host:port", opts.broker))
		}
		o.Control = &fleet.CommandBroker{Cmd: opts.brokerCmd, Addr: u.Host}
	}
	if o.Dir == "" {
		base := ""
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			// A real store fsyncs its own SD card; a thousand stores on one
			// disk would measure the disk, not the fleet.
			base = "/dev/shm"
		}
		dir, err := os.MkdirTemp(base, "edge-agent-fleet-")
		if err != nil {
			return withCode(exitFailure, err)
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	if cb, ok := o.Control.(*fleet.CommandBroker); ok {
		cb.Log = filepath.Join(o.Dir, "broker.log")
		if err := os.MkdirAll(o.Dir, 0o750); err != nil {
			return withCode(exitFailure, err)
		}
		if err := cb.Start(); err != nil {
			return withCode(exitFailure, err)
		}
		defer func() { _ = cb.Stop() }()
	}
	s, err := fleet.Run(ctx, o)
	if s == nil {
		return withCode(exitFailure, err)
	}
	if opts.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s)
	} else {
		printFleetSummary(stdout, s)
	}
	if err != nil {
		return withCode(exitFailure, err)
	}
	if s.Lost > 0 || s.WindowsDelivered < s.WindowsCommitted {
		return withCode(exitFailure, fmt.Errorf("%d windows lost, %d of %d delivered", s.Lost, s.WindowsDelivered, s.WindowsCommitted))
	}
	return nil
}

func printFleetSummary(w io.Writer, s *fleet.Summary) {
	fmt.Fprintf(w, "stores              %d (broker %s, speedup %gx)\n", s.Stores, s.Broker, s.Speedup)
	fmt.Fprintf(w, "outage              %v store time (%.1fs real)\n", time.Duration(s.OutageS*float64(time.Second)), s.OutageRealS)
	fmt.Fprintf(w, "windows             %d committed, %d delivered, %d lost, %d duplicates, %d still in outboxes\n",
		s.WindowsCommitted, s.WindowsDelivered, s.Lost, s.Duplicates, s.InOutbox)
	fmt.Fprintf(w, "consumer            %d windows behind when store time froze, caught up in %.1fs\n", s.ConsumerLagAtFreeze, s.ConsumerCatchUpS)
	fmt.Fprintf(w, "reconnects          %d over %.1fs: peak %d/s (bound %.1f/s), %d in 10s, mean %.1f/s (head of the wave %.1f/s); %d failed attempts, peak %d/s\n",
		s.Reconnects, s.ReconnectSpreadS, s.MaxConnectsPerS, s.ConnectBoundPerS, s.MaxConnectsPer10S, s.MeanConnectsPerS,
		s.ConnectRateHeadPerS, s.FailedConnects, s.MaxFailedConnectsPer)
	if s.BrokerMaxConnectsPerS > 0 {
		fmt.Fprintf(w, "                    the broker's log: peak %d connects in one second\n", s.BrokerMaxConnectsPerS)
	}
	fmt.Fprintf(w, "drain               %.1fs after the outage (%d historical windows)\n", s.DrainS, s.HistoricalWindows)
	fmt.Fprintf(w, "fresh windows       p50 %.2fs, p99 %.2fs, max %.2fs (%d); p99 while draining %.2fs (%d); before the outage %.2fs\n",
		s.LiveLatencyP50S, s.LiveLatencyP99S, s.LiveLatencyMaxS, s.LiveWindows, s.DrainLiveLatencyP99S, s.DrainLiveWindows, s.BeforeLiveLatencyP99S)
	fmt.Fprintf(w, "cost                heap %.0f MiB before the outage (%.0f KiB/store), %.0f MiB peak, %d goroutines, %.1fs CPU (%.2f cores live)",
		float64(s.HeapLiveBytes)/(1<<20), float64(s.HeapPerStoreBytes)/1024, float64(s.HeapPeakBytes)/(1<<20), s.Goroutines, s.CPUS, s.CPULiveCores)
	if s.BrokerCPUS > 0 {
		fmt.Fprintf(w, ", broker %.1fs CPU", s.BrokerCPUS)
	}
	fmt.Fprintf(w, "\nreal time           %.0fs, load %s\n", s.RealS, s.LoadAvg)
}
