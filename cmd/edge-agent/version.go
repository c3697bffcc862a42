package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

type versionOptions struct{ output string }

func newVersionCmd() *cobra.Command {
	opts := &versionOptions{}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, Go version and platform",
		Example: "  edge-agent version\n  edge-agent version --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			return runVersion(cmd, opts)
		},
	}
	outputFlag(cmd, &opts.output)
	return cmd
}

func runVersion(cmd *cobra.Command, opts *versionOptions) error {
	v := map[string]string{"version": version, "go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v["commit"] = s.Value
			}
		}
	}
	if opts.output == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "edge-agent %s (%s, %s)\n", v["version"], v["go"], v["platform"])
	return err
}
