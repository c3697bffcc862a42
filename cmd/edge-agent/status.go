package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
)

type statusOptions struct {
	socket     string
	configPath string
	output     string
	timeout    time.Duration
}

func newStatusCmd() *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Ask the running daemon how it is doing",
		Long: `Asks the running daemon over its local socket: outbox depth, oldest
unsent window, dropped records, broker state and each sensor's health.
Exit code 4 when no daemon is running.`,
		Example: "  edge-agent status\n  edge-agent status --socket /tmp/edge-agent-demo/status.sock --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			return runStatus(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.socket, "socket", "", "status socket (default: the config's status_socket)")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file naming the socket")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 3*time.Second, "how long to wait for an answer")
	outputFlag(cmd, &opts.output)
	return cmd
}

func runStatus(cmd *cobra.Command, opts *statusOptions) error {
	sock := opts.socket
	if sock == "" {
		sock = config.Default().StatusSocket
		if cfg, err := config.Load(opts.configPath); err == nil && cfg.StatusSocket != "" {
			sock = cfg.StatusSocket
		}
	}
	r, err := agent.QueryStatus(sock, opts.timeout)
	if err != nil {
		if errors.Is(err, agent.ErrNotRunning) {
			return withCode(exitNotRunning, err)
		}
		return withCode(exitFailure, err)
	}
	if opts.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return printStatus(cmd.OutOrStdout(), r)
}

func printStatus(w io.Writer, r agent.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "edge-agent %s  store %s  agent %s  up since %s\n", r.Version, r.Store, r.Agent, r.StartedAt.Format(time.RFC3339))
	clock := "synchronized"
	if !r.Clock.Synced {
		clock = "NOT synchronized (windows wait for NTP)"
	}
	fmt.Fprintf(&b, "clock    %s\n", clock)
	broker := "connected"
	if !r.Broker.Connected {
		broker = "DISCONNECTED"
		if r.Broker.LastError != "" {
			broker += ": " + r.Broker.LastError
		}
	}
	fmt.Fprintf(&b, "broker   %s %s (sent %d, acked %d, in flight %d, reconnects %d)\n", r.Broker.URL, broker,
		r.Broker.Sent, r.Broker.Acked, r.Broker.InFlight, r.Broker.Reconnects)
	if cs := r.Broker.Commands; cs.Received > 0 {
		fmt.Fprintf(&b, "commands %d received (%d too large, %d busy), %d replies sent, %d not sent (over the reply rate)\n",
			cs.Received, cs.TooLarge, cs.Busy, cs.Replies, cs.RepliesDropped)
	}
	oldest := "-"
	if !r.Outbox.OldestAt.IsZero() {
		oldest = r.Outbox.OldestAt.Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "outbox   %d unsent (%d bytes), oldest %s, dropped %d\n", r.Outbox.Depth, r.Outbox.Bytes, oldest, r.Outbox.Dropped)
	if r.Outbox.LastCommitError != "" {
		fmt.Fprintf(&b, "         last commit error: %s\n", r.Outbox.LastCommitError)
	}
	fmt.Fprintf(&b, "window   since %s, occupancy %d\n", fmtTime(r.Window.Start), r.Window.Occupancy)
	fmt.Fprintf(&b, "%-16s %-13s %-9s %-6s %10s %9s  %s\n", "SENSOR", "KIND", "ROLE", "STATE", "READINGS", "LAST", "OPEN WINDOW")
	for _, s := range r.Sensors {
		last := "-"
		if s.LastAgoMs >= 0 {
			last = (time.Duration(s.LastAgoMs) * time.Millisecond).String()
		}
		state := s.State
		if s.Simulated {
			state += "*"
		}
		fmt.Fprintf(&b, "%-16s %-13s %-9s %-6s %10d %9s  %s\n", s.ID, s.Kind, s.Role, state, s.Readings, last, fmtCounts(s.OpenCounts))
		if s.Error != "" {
			fmt.Fprintf(&b, "%16s error: %s\n", "", s.Error)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func fmtCounts(m map[string]int64) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
