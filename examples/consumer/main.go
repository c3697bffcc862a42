// Command consumer is an example cloud-side subscriber of edge-agent's
// window messages: it subscribes to every store's agg/<sensor> and store
// topics with a persistent session (QoS 1, clean session off), optionally
// as a shared subscription so several instances split the stream, drops
// re-deliveries by message id (the agents deliver at least once) and
// prints per-store totals. edge-agent fleet-sim counts with the same code
// (internal/fleet.Consumer).
//
//	go run ./examples/consumer --broker tcp://127.0.0.1:1883
//	go run ./examples/consumer --broker tcp://broker:1883 --share cloud --client-id ingest-1 --every 10s
//
// Read docs/FLEET.md ("The cloud side") before using a shared
// subscription on Mosquitto: it does not restore shared subscriptions
// after a broker restart.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/omo-edge/edge-agent/internal/fleet"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("consumer", flag.ContinueOnError)
	host, _ := os.Hostname()
	var (
		o        fleet.SubscribeOptions
		pwFile   string
		every    time.Duration
		duration time.Duration
		output   string
	)
	fs.StringVar(&o.Broker, "broker", "tcp://127.0.0.1:1883", "broker URL")
	fs.StringVar(&o.ClientID, "client-id", "edge-consumer-"+host, "client id of the persistent session (keep it stable)")
	fs.StringVar(&o.TopicPrefix, "topic-prefix", "edge-agent", "the agents' mqtt.topic_prefix")
	fs.StringVar(&o.Share, "share", "", "shared-subscription group ($share/<group>/...); empty: a plain subscription")
	fs.StringVar(&o.Username, "username", "", "username")
	fs.StringVar(&pwFile, "password-file", "", "file holding the password")
	fs.DurationVar(&every, "every", 0, "print the totals this often (default: only at the end)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	fs.StringVar(&output, "output", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	if pwFile != "" {
		b, err := os.ReadFile(pwFile)
		if err != nil {
			return err
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	c := fleet.NewConsumer()
	connectCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	disconnect, err := c.Subscribe(connectCtx, o)
	cancel()
	if err != nil {
		return fmt.Errorf("subscribing at %s: %w", o.Broker, err)
	}
	defer disconnect()
	fmt.Fprintf(os.Stderr, "subscribed to %v at %s as %s\n", fleet.Filters(o.TopicPrefix, o.Share), o.Broker, o.ClientID)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			if err := printTotals(out, c, output); err != nil {
				return err
			}
		case <-ctx.Done():
			err := printTotals(out, c, output)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.Canceled) {
				return err
			}
			return errors.Join(err, ctx.Err())
		}
	}
}

func printTotals(w io.Writer, c *fleet.Consumer, output string) error {
	totals := c.Totals()
	windows, deliveries, dups, invalid := c.Counts()
	if output == "json" {
		return json.NewEncoder(w).Encode(struct {
			Windows    uint64              `json:"windows"`
			Deliveries uint64              `json:"deliveries"`
			Duplicates uint64              `json:"duplicates"`
			Invalid    uint64              `json:"invalid"`
			Stores     []fleet.StoreTotals `json:"stores"`
		}{windows, deliveries, dups, invalid, totals})
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "STORE\tAGENT\tWINDOWS\tHISTORICAL\tDUPLICATES\tMAX SEQ\tSEQ GAPS\n")
	for _, t := range totals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", t.Store, t.Agent, t.Windows, t.Historical, t.Duplicates, t.MaxSeq, t.SeqGaps)
	}
	fmt.Fprintf(tw, "total\t\t%d\t\t%d\t\t\n", windows, dups)
	if invalid > 0 {
		fmt.Fprintf(tw, "invalid messages: %d\n", invalid)
	}
	return tw.Flush()
}
