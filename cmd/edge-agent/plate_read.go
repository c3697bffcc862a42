package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/plate"
	"github.com/omo-edge/edge-agent/internal/pseudo"
)

// plateTag is what the plate commands use of a tag (*ntag.Dev).
type plateTag interface {
	plate.Tag
	Version() ntag.Variant
}

// openPlateTag opens a plate's tag on its bus; tests swap it for an
// emulated tag.
var openPlateTag = func(cfg *config.Config, id string) (plateTag, func() error, error) {
	return agent.OpenPlateTag(cfg, id)
}

type plateReadOptions struct {
	plate      string
	configPath string
	output     string
	stdout     io.Writer
}

func newPlateReadCmd() *cobra.Command {
	opts := &plateReadOptions{}
	cmd := &cobra.Command{
		Use:   "read --plate ID",
		Short: "Read a plate's tag: the URL on it and whether a phone is there",
		Long: `Reads the NTAG I2C plus of a smart plate over I²C, as configured: the URL
its NDEF message holds (checked against the store's plate secret when it is a
one-time coupon URL) and whether a phone's field is present.

The daemon drives the plates while it runs: stop it first (systemctl stop
edge-agent). With the daemon running this command says so and exits 1.`,
		Example: "  edge-agent plate read --plate plate-1\n  edge-agent plate read --plate plate-1 --config /etc/edge-agent/config.yaml -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			opts.stdout = cmd.OutOrStdout()
			return runPlateRead(opts)
		},
	}
	cmd.Flags().StringVar(&opts.plate, "plate", "", "the plate's sensor id")
	_ = cmd.MarkFlagRequired("plate")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file")
	outputFlag(cmd, &opts.output)
	return cmd
}

// plateReadResult is the JSON answer of plate read.
type plateReadResult struct {
	Plate   string  `json:"plate"`
	Chip    string  `json:"chip"`
	URL     string  `json:"url"`              // "" when the tag holds no URI
	Field   bool    `json:"field"`            // a phone's field is present
	Coupon  string  `json:"coupon,omitempty"` // valid, bad_mac, malformed, unchecked (no secret)
	Counter *uint64 `json:"counter,omitempty"`
	Error   string  `json:"error,omitempty"` // why the tag's content is no URL
}

func runPlateRead(opts *plateReadOptions) error {
	cfg, err := loadPlateConfig(opts.configPath)
	if err != nil {
		return err
	}
	if err := daemonNotRunning(cfg); err != nil {
		return err
	}
	tag, closeTag, err := openPlateTag(cfg, opts.plate)
	if err != nil {
		return withCode(exitFailure, err)
	}
	defer closeTag()
	res := plateReadResult{Plate: opts.plate, Chip: tag.Version().String()}
	if res.Field, err = tag.FieldPresent(); err != nil {
		return withCode(exitFailure, err)
	}
	msg, err := tag.ReadNDEF()
	switch {
	case errors.Is(err, ntag.ErrNoNDEF):
		res.Error = "no NDEF message on the tag"
	case err != nil:
		return withCode(exitFailure, err)
	case len(msg) == 0:
		res.Error = "empty NDEF message"
	default:
		if res.URL, err = plate.DecodeURI(msg); err != nil {
			res.Error = "the NDEF message holds no URI record"
		}
	}
	if res.URL != "" && strings.Contains(res.URL, "m=") {
		res.Coupon = "unchecked"
		if cfg.NFC.PlateSecretFile != "" {
			secret, err := pseudo.LoadSecret(cfg.NFC.PlateSecretFile)
			if err != nil {
				return withCode(exitFailure, err)
			}
			c, err := plateurl.Verify(res.URL, secret)
			switch {
			case err == nil && c.PlateID != opts.plate:
				res.Coupon = "other_plate"
			case err == nil:
				res.Coupon, res.Counter = "valid", &c.Counter
			case errors.Is(err, plateurl.ErrBadMAC):
				res.Coupon = "bad_mac"
			default:
				res.Coupon = "malformed"
			}
		}
	}
	if opts.output == "json" {
		enc := json.NewEncoder(opts.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "plate   %s (%s)\n", res.Plate, res.Chip)
	if res.URL != "" {
		fmt.Fprintf(&b, "url     %s\n", res.URL)
	} else {
		fmt.Fprintf(&b, "url     - (%s)\n", res.Error)
	}
	switch res.Coupon {
	case "valid":
		fmt.Fprintf(&b, "coupon  valid, counter %d\n", *res.Counter)
	case "other_plate":
		b.WriteString("coupon  signed for ANOTHER plate\n")
	case "bad_mac":
		b.WriteString("coupon  MAC does NOT match the store's plate secret\n")
	case "malformed":
		b.WriteString("coupon  malformed one-time URL\n")
	case "unchecked":
		b.WriteString("coupon  not checked (no nfc.plate_secret_file in the config)\n")
	}
	field := "off (no phone)"
	if res.Field {
		field = "ON (a phone is on the plate)"
	}
	fmt.Fprintf(&b, "field   %s\n", field)
	_, err = io.WriteString(opts.stdout, b.String())
	return err
}

func loadPlateConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, withCode(exitBadInput, err)
	}
	return cfg, nil
}

// daemonNotRunning refuses to touch the hardware while the daemon, which
// drives the plates, runs. (Asking the daemon to do it is for later.)
func daemonNotRunning(cfg *config.Config) error {
	_, err := agent.QueryStatus(cfg.StatusSocket, time.Second)
	switch {
	case err == nil:
		return withCode(exitFailure, fmt.Errorf("the edge-agent daemon is running (status socket %s) and drives the plates: "+
			"stop it first (systemctl stop edge-agent), or set the content from the cloud (cmd/plate-content)", cfg.StatusSocket))
	case errors.Is(err, agent.ErrNotRunning):
		return nil
	}
	return withCode(exitFailure, fmt.Errorf("cannot tell whether the daemon is running: %w", err))
}
