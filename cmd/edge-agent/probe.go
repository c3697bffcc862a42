package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/configs"
	"github.com/omo-edge/edge-agent/internal/agent"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/probe"
)

type probeOptions struct {
	configPath string
	demo       bool
	output     string
	record     string

	stdout, stderr io.Writer
	// host is the machine's hardware (tests: fakes); nil means periph's.
	host probe.Hardware
	// emulated builds a simulated sensor's chips (tests: faulty ones).
	emulated func(config.SensorConfig) (probe.Hardware, error)
	// daemonRunning reports whether the daemon answers on its socket.
	daemonRunning func(cfg *config.Config) bool
	sleep         func(time.Duration)
}

func newProbeCmd() *cobra.Command {
	opts := &probeOptions{daemonRunning: daemonAnswers}
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Check every configured sensor's wiring and identity",
		Long: `Checks every configured sensor where it is wired and says OK, missing,
wrong device or suspicious wiring, with a hint on what to check:

  VL53L1X      I2C address scan, IDENTIFICATION__MODEL_ID reads 0xEACC
  MCP3008      all 8 inputs converted: all 0 or all 1023 is no power or a
               floating MISO; the Sharp sensor's input must not read 0 V
  NTAG plate   block 0 manufacturer byte 04h, NDEF capability container
  PN532        GetFirmwareVersion answers IC 0x32
  beams, pulse counters, PIR: line levels at rest (a beam blocked with
               nobody in the doorway is misaligned or wrongly active_low)

Run it with the doorway and the aisles empty. Simulated sensors are probed
through the emulated chips the daemon would read. The daemon drives the
buses while it runs: stop it first (systemctl stop edge-agent).

Exit code 0 when every sensor is OK, 1 otherwise, 3 for a wrong config,
6 when the daemon is running.`,
		Example: `  edge-agent probe
  edge-agent probe --config /etc/edge-agent/config.yaml --output json
  edge-agent probe --record /tmp/probe-traffic.txt   # attach to a support ticket
  edge-agent probe --demo                            # the simulated store`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			opts.stdout, opts.stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runProbe(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file")
	cmd.Flags().BoolVar(&opts.demo, "demo", false, "probe the built-in simulated store (edge-agent demo's sensors)")
	cmd.Flags().StringVar(&opts.record, "record", "", "write the bus traffic to this file, as text, for support")
	outputFlag(cmd, &opts.output)
	return cmd
}

// daemonAnswers reports whether a daemon answers on the config's socket.
func daemonAnswers(cfg *config.Config) bool {
	if cfg.StatusSocket == "" {
		return false
	}
	_, err := agent.QueryStatus(cfg.StatusSocket, 500*time.Millisecond)
	return err == nil
}

func runProbe(opts *probeOptions) error {
	var cfg *config.Config
	var err error
	if opts.demo {
		cfg, err = config.Parse("demo.yaml (built in)", configs.Demo)
	} else {
		cfg, err = config.Load(opts.configPath)
	}
	if err == nil {
		// Probe reads the sensors only: the keys it does not use need not
		// be set (the demo's config leaves them to the demo command).
		if cfg.StateDir == "" {
			cfg.StateDir = os.TempDir()
		}
		if cfg.MQTT.Broker == "" {
			cfg.MQTT.Broker = "tcp://127.0.0.1:1883"
		}
		err = cfg.Validate()
	}
	if err != nil {
		return withCode(exitBadInput, err)
	}
	onHost := false
	for _, sc := range cfg.Sensors {
		onHost = onHost || sc.Simulate == nil
	}
	// Simulated sensors run on their own emulated chips: only real buses
	// would be shared with the daemon.
	if onHost && opts.daemonRunning != nil && opts.daemonRunning(cfg) {
		return withCode(exitDaemonRunning, errors.New("the daemon is running and drives the sensors' buses: stop it (systemctl stop edge-agent), probe, then start it again"))
	}
	po := probe.Options{Host: opts.host, Emulated: opts.emulated, Sleep: opts.sleep}
	if po.Host == nil && onHost {
		h := &probe.Host{}
		defer h.Close()
		po.Host = h
	}
	var rec *probe.Recorder
	if opts.record != "" {
		rec = &probe.Recorder{}
		po.Record = rec
	}
	rep := probe.Run(cfg, po)
	if rec != nil {
		if err := writeRecord(opts.record, rec); err != nil {
			return withCode(exitFailure, err)
		}
		fmt.Fprintf(opts.stderr, "bus traffic written to %s\n", opts.record)
	}
	if opts.output == "json" {
		enc := json.NewEncoder(opts.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := printProbe(opts.stdout, rep); err != nil {
		return err
	}
	if bad := notOK(rep); bad > 0 {
		return withCode(exitFailure, fmt.Errorf("%d of %d sensors not OK", bad, len(rep.Sensors)))
	}
	return nil
}

func writeRecord(path string, rec *probe.Recorder) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := rec.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func notOK(rep probe.Report) int {
	n := 0
	for _, s := range rep.Sensors {
		if s.Status != probe.OK {
			n++
		}
	}
	return n
}

// statusText is how a verdict reads in the text report.
var statusText = map[probe.Status]string{
	probe.OK:          "OK",
	probe.Suspicious:  "SUSPICIOUS WIRING",
	probe.WrongDevice: "WRONG DEVICE",
	probe.Missing:     "MISSING",
	probe.BusError:    "BUS ERROR",
}

func printProbe(w io.Writer, rep probe.Report) error {
	var b strings.Builder
	for _, s := range rep.Sensors {
		name := s.Sensor + " (" + s.Kind
		if s.Simulated {
			name += ", simulated"
		}
		name += ")"
		fmt.Fprintf(&b, "%-40s %s\n", name, statusText[s.Status])
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "  %-22s %-12s %s\n", c.Name, c.Status, c.Detail)
			if c.Hint != "" {
				fmt.Fprintf(&b, "  %-22s %-12s → %s\n", "", "", c.Hint)
			}
		}
	}
	bad := notOK(rep)
	fmt.Fprintf(&b, "%d sensors: %d OK", len(rep.Sensors), len(rep.Sensors)-bad)
	if bad > 0 {
		fmt.Fprintf(&b, ", %d to check", bad)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
