package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/plate"
)

type plateWriteURLOptions struct {
	plate      string
	url        string
	oneTime    bool
	configPath string
	wait       time.Duration
	output     string
	stdout     io.Writer
	stderr     io.Writer
}

func newPlateWriteURLCmd() *cobra.Command {
	opts := &plateWriteURLOptions{}
	cmd := &cobra.Command{
		Use:   "write-url --plate ID URL",
		Short: "Set a plate's content and write it to its tag",
		Long: `Sets what a smart plate shows and writes it to its NTAG I2C plus over I²C:
URL as static content, or with --one-time as the base of the plate's one-time
coupon URLs (the next one is written now, signed with the store's plate
secret). The content is saved in the plate's state (state_dir/plates) like a
cloud command's, so the daemon keeps it when it starts.

The tag is written only while no phone is on the plate: with a phone there
it waits up to --wait. The daemon drives the plates while it runs: stop it
first (systemctl stop edge-agent). With the daemon running this command says
so and exits 1. A URL that is not https:// or http://, or that does not fit
the tag, exits 3.`,
		Example: "  edge-agent plate write-url --plate plate-1 https://example.com/survey\n" +
			"  edge-agent plate write-url --plate plate-1 --one-time https://c.example.com/t",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			opts.url, opts.stdout, opts.stderr = args[0], cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runPlateWriteURL(opts)
		},
	}
	cmd.Flags().StringVar(&opts.plate, "plate", "", "the plate's sensor id")
	_ = cmd.MarkFlagRequired("plate")
	cmd.Flags().BoolVar(&opts.oneTime, "one-time", false, "URL is the base of one-time coupon URLs")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file")
	cmd.Flags().DurationVar(&opts.wait, "wait", 10*time.Second, "how long to wait for a phone to leave the plate")
	outputFlag(cmd, &opts.output)
	return cmd
}

// plateWriteResult is the JSON answer of plate write-url.
type plateWriteResult struct {
	Plate   string        `json:"plate"`
	Content plate.Content `json:"content"`
	Written string        `json:"written"` // the URL now on the tag
	// Counter is the one-time URL's counter (with --one-time).
	Counter *uint64 `json:"counter,omitempty"`
}

func runPlateWriteURL(opts *plateWriteURLOptions) error {
	ct := plate.Content{URI: opts.url}
	if opts.oneTime {
		ct = plate.Content{BaseURL: opts.url}
	}
	if err := plate.CheckContent(ct, opts.plate); err != nil {
		return withCode(exitBadInput, err)
	}
	cfg, err := loadPlateConfig(opts.configPath)
	if err != nil {
		return err
	}
	if err := daemonNotRunning(cfg); err != nil {
		return err
	}
	ctl, err := agent.OpenPlate(cfg, opts.plate, nil)
	if err != nil {
		return withCode(exitFailure, err)
	}
	defer ctl.Close()
	tag, closeTag, err := openPlateTag(cfg, opts.plate)
	if err != nil {
		return withCode(exitFailure, err)
	}
	defer closeTag()
	ctl.Attach(tag)
	defer ctl.Detach()
	applied, err := ctl.SetContent(ct, plate.FromCLI, "")
	if errors.Is(err, plate.ErrInvalid) {
		return withCode(exitBadInput, err)
	}
	if err != nil {
		return withCode(exitFailure, err)
	}
	if !applied {
		fmt.Fprintf(opts.stderr, "a phone is on plate %s: waiting up to %v for it to leave\n", opts.plate, opts.wait)
		deadline := time.Now().Add(opts.wait)
		for ctl.Status().Pending {
			if time.Now().After(deadline) {
				return withCode(exitFailure, fmt.Errorf("plate %s: a phone stayed on the plate for %v; the content is saved and the daemon writes it when it starts", opts.plate, opts.wait))
			}
			time.Sleep(50 * time.Millisecond)
			on, err := tag.FieldPresent()
			if err != nil {
				return withCode(exitFailure, err)
			}
			if err := ctl.Service(time.Now(), on); err != nil {
				return withCode(exitFailure, err)
			}
		}
	}
	st := ctl.Status()
	res := plateWriteResult{Plate: opts.plate, Content: st.Content, Written: st.Current}
	if opts.oneTime {
		n := st.NextCounter - 1
		res.Counter = &n
	}
	if opts.output == "json" {
		enc := json.NewEncoder(opts.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	_, err = fmt.Fprintf(opts.stdout, "plate %s now holds %s\n", opts.plate, st.Current)
	return err
}
