package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
	"github.com/omo-edge/edge-agent/internal/pseudo"
)

// newPlateCmd groups the smart-plate tools. (read and write-url, which talk
// to a tag over I2C, are still to come.)
func newPlateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plate",
		Short: "Smart plates: read, write and verify their one-time coupon URLs",
	}
	cmd.AddCommand(newPlateVerifyCmd(), newPlateReadCmd(), newPlateWriteURLCmd())
	return cmd
}

type plateVerifyOptions struct {
	url        string
	secretFile string
	output     string
	stdout     io.Writer
}

func newPlateVerifyCmd() *cobra.Command {
	opts := &plateVerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify URL --secret-file FILE",
		Short: "Check a plate's coupon URL against the store's secret",
		Long: `Checks that a coupon URL written to a smart plate was signed with the
store's secret: its plate id, counter and MAC (the algorithm is documented in
the Go package drivers/nfc/plateurl). Exit 0 when the URL is valid, 3 when it
is not, with the reason. Only the MAC is checked: whether the coupon was
already redeemed is for the service that redeems it to know. The secret is
never printed.`,
		Example: "  edge-agent plate verify 'https://c.example.com/t?p=plate-1&c=42&m=xXOa7uE_tPvD8xq_Pg858A' --secret-file /etc/edge-agent/plate.secret",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			opts.url, opts.stdout = args[0], cmd.OutOrStdout()
			return runPlateVerify(opts)
		},
	}
	cmd.Flags().StringVar(&opts.secretFile, "secret-file", "", "file holding the store's plate secret")
	_ = cmd.MarkFlagRequired("secret-file")
	outputFlag(cmd, &opts.output)
	return cmd
}

// plateVerifyResult is the JSON answer of plate verify.
type plateVerifyResult struct {
	URL     string  `json:"url"`
	Valid   bool    `json:"valid"`
	Plate   string  `json:"plate,omitempty"`
	Counter *uint64 `json:"counter,omitempty"` // set when valid (0 is a counter)
	Reason  string  `json:"reason,omitempty"`  // malformed, bad_mac
	Error   string  `json:"error,omitempty"`
}

func runPlateVerify(opts *plateVerifyOptions) error {
	secret, err := pseudo.LoadSecret(opts.secretFile)
	if err != nil {
		return withCode(exitFailure, err)
	}
	c, verr := plateurl.Verify(opts.url, secret)
	res := plateVerifyResult{URL: opts.url, Valid: verr == nil}
	switch {
	case verr == nil:
		res.Plate, res.Counter = c.PlateID, &c.Counter
	case errors.Is(verr, plateurl.ErrBadMAC):
		res.Reason, res.Error = "bad_mac", verr.Error()
	case errors.Is(verr, plateurl.ErrMalformed):
		res.Reason, res.Error = "malformed", verr.Error()
	default:
		return withCode(exitFailure, verr) // the secret itself is unusable
	}
	if opts.output == "json" {
		enc := json.NewEncoder(opts.stdout)
		enc.SetEscapeHTML(false) // the URL's & stays readable
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else if verr == nil {
		if _, err := fmt.Fprintf(opts.stdout, "valid: plate %s, counter %d\n", c.PlateID, c.Counter); err != nil {
			return err
		}
	}
	if verr != nil {
		return withCode(exitBadInput, fmt.Errorf("invalid coupon URL: %w", verr))
	}
	return nil
}
