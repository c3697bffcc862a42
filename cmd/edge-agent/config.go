package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with configuration files",
	}
	cmd.AddCommand(newConfigValidateCmd())
	return cmd
}

type configValidateOptions struct {
	file   string
	output string
}

func newConfigValidateCmd() *cobra.Command {
	opts := &configValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a config file: every key, value and referenced file",
		Long: `Checks a config file without touching hardware or the network. Errors
name the file, line and key. Exit code 3 when the file is wrong.`,
		Example: "  edge-agent config validate /etc/edge-agent/config.yaml\n  edge-agent config validate store.yaml --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			opts.file = args[0]
			return runConfigValidate(cmd, opts)
		},
	}
	outputFlag(cmd, &opts.output)
	return cmd
}

func runConfigValidate(cmd *cobra.Command, opts *configValidateOptions) error {
	cfg, err := config.Load(opts.file)
	if err == nil {
		err = cfg.Validate()
	}
	if opts.output == "json" {
		res := map[string]any{"file": opts.file, "valid": err == nil}
		if err != nil {
			res["error"] = err.Error()
			if ce, ok := err.(*config.Error); ok {
				res["line"], res["key"] = ce.Line, ce.Key
			}
		} else {
			res["sensors"] = len(cfg.Sensors)
		}
		if jerr := json.NewEncoder(cmd.OutOrStdout()).Encode(res); jerr != nil {
			return jerr
		}
		if err != nil {
			return withCode(exitBadInput, fmt.Errorf("%s is not valid", opts.file))
		}
		return nil
	}
	if err != nil {
		return withCode(exitBadInput, err)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (store %s, agent %s, %d sensors, broker %s)\n",
		opts.file, cfg.StoreID, cfg.AgentID, len(cfg.Sensors), cfg.MQTT.Broker)
	return err
}
