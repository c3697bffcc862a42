package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "edge-agent",
		Short: "In-store edge agent: people counters and NFC to trustworthy online data",
		Long: `edge-agent reads a store's people counters and NFC devices, derives the
store's metrics locally (entries, exits, passers-by, entry rate, ...),
buffers them durably and publishes them over MQTT.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newRunCmd(),
		newDemoCmd(),
		newReplayCmd(),
		newConfigCmd(),
		newStatusCmd(),
		newWatchCmd(),
		newRecordCmd(),
		newCalibrateCmd(),
		newPlateCmd(),
		newBufferCmd(),
		newProbeCmd(),
		newFleetSimCmd(),
		newVersionCmd(),
	)
	return root
}

// outputFlag adds --output text|json to a command.
func outputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", "text", "output format: text or json")
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return withCode(exitUsage, fmt.Errorf("--output %q: want text or json", o))
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
