package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/detect"
	"github.com/omo-edge/edge-agent/internal/pipeline"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/trace"
)

// replayFlushMs is how often replay tells quiet detectors that time has
// passed (a trace is ordered by time across sensors).
const replayFlushMs = 100

type replayOptions struct {
	tracePath  string
	window     time.Duration
	configPath string
}

func newReplayCmd() *cobra.Command {
	opts := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay --trace FILE",
		Short: "Run a recorded sensor trace through detection and aggregation",
		Long: `Reads a trace-v1 file and prints, as JSON Lines, every window's messages
exactly as they would be published upstream, then one summary line.
With --config, the store's identity, window and closing time and each
sensor's configured keys apply; the trace's own keys override them.
A bad trace exits 3 with a message naming the line, and prints no summary.`,
		Example: "  edge-agent replay --trace store.trace\n  edge-agent replay --trace store.trace --window 5m --config /etc/edge-agent/config.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReplay(cmd.OutOrStdout(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.tracePath, "trace", "t", "", "trace file (- for standard input)")
	cmd.Flags().DurationVarP(&opts.window, "window", "w", 0, "window length (default: the config's, else 1m)")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "", "agent config for identity, window and sensor keys")
	_ = cmd.MarkFlagRequired("trace")
	return cmd
}

func runReplay(stdout io.Writer, opts *replayOptions) error {
	id := aggregate.Identity{Store: "replay", Agent: "replay"}
	aggOpts := aggregate.Options{Window: time.Minute}
	var cfg *config.Config
	if opts.configPath != "" {
		var err error
		if cfg, err = config.Load(opts.configPath); err != nil {
			return withCode(exitBadInput, err)
		}
		id = aggregate.Identity{Store: cfg.StoreID, Agent: cfg.AgentID}
		aggOpts = cfg.AggregateOptions()
	}
	if opts.window != 0 {
		aggOpts.Window = opts.window
	}

	in, name := io.Reader(os.Stdin), "standard input"
	if opts.tracePath != "-" {
		f, err := os.Open(opts.tracePath)
		if err != nil {
			return withCode(exitBadInput, fmt.Errorf("trace: %w", err))
		}
		defer f.Close()
		in, name = f, opts.tracePath
	}
	bad := func(err error) error { return withCode(exitBadInput, fmt.Errorf("%s: %w", name, err)) }

	rd, err := trace.NewReader(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		return bad(err)
	}
	h := rd.Header()
	specs := h.Sensors
	for i := range specs {
		if cfg != nil {
			specs[i] = overlay(cfg, specs[i])
		}
		if _, err := detect.New(specs[i], i); err != nil {
			return bad(&trace.Error{Line: h.SensorLines[i], Msg: err.Error()})
		}
	}
	p, err := pipeline.New(specs, aggOpts)
	if err != nil {
		return bad(err)
	}
	p.FlushEvery(replayFlushMs)
	enc := aggregate.NewEncoder(id, specs)
	sum := aggregate.NewSummary(specs)
	var out bytes.Buffer
	var seq uint64
	emit := func(ws []aggregate.Window) {
		for wi := range ws {
			w := &ws[wi]
			for i := range specs {
				seq++
				out.Write(enc.SensorWindow(nil, w, i, seq))
				out.WriteByte('\n')
			}
			seq++
			out.Write(enc.StoreWindow(nil, w, seq))
			out.WriteByte('\n')
			sum.Add(w)
		}
	}
	start := h.Start.UnixMilli()
	emit(p.SetAnchor(start))
	var r sensor.Reading
	var last int64
	for {
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad(err)
		}
		last = r.TMs
		emit(p.Feed(r))
	}
	emit(p.Close(last))
	out.Write(sum.AppendJSON(nil, start, start+last))
	out.WriteByte('\n')
	_, err = out.WriteTo(stdout)
	return err
}

// overlay applies a configured sensor's keys under the trace's own: the
// trace's keys override the agent's configuration (trace-v1).
func overlay(cfg *config.Config, s sensor.Spec) sensor.Spec {
	for _, sc := range cfg.Sensors {
		if sc.ID != s.ID || sc.Kind != string(s.Kind) {
			continue
		}
		base, err := sensor.NewSpec(s.ID, s.Kind, s.Role, nil)
		if err != nil {
			return s
		}
		for k, v := range sc.Params {
			if _, inTrace := s.Params[k]; !inTrace {
				_ = base.Set(k, v)
			}
		}
		def, _ := sensor.NewSpec(s.ID, s.Kind, s.Role, nil)
		// Role keys the trace left at their defaults take the config's value.
		if s.DwellMinMs == def.DwellMinMs {
			s.DwellMinMs = base.DwellMinMs
		}
		if s.RepeatMs == def.RepeatMs {
			s.RepeatMs = base.RepeatMs
		}
		if s.CountsEntrants == def.CountsEntrants {
			s.CountsEntrants = base.CountsEntrants
		}
		if s.Shelf == "" {
			s.Shelf = base.Shelf
		}
		for k, v := range base.Params {
			if s.Params == nil {
				s.Params = map[string]string{}
			}
			s.Params[k] = v
		}
	}
	return s
}
