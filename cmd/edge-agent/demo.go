package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/configs"
	"github.com/omo-edge/edge-agent/internal/broker"
	"github.com/omo-edge/edge-agent/internal/config"
)

type demoOptions struct {
	duration   time.Duration
	window     time.Duration
	brokerURL  string
	stateDir   string
	configPath string
	raw        bool
}

func newDemoCmd() *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a simulated store: real drivers on emulated chips, an embedded MQTT broker",
		Long: `Runs the agent on a simulated store: a simulated crowd walks past the shop
and through its doors, seen by emulated chips (a VL53L1X on a fake I2C bus,
fake GPIO lines for an IR beam pair and a pulse counter) read through the
real drivers. With no broker configured, an MQTT broker runs inside the
process, and every message the agent publishes is shown as it arrives.`,
		Example: `  edge-agent demo
  edge-agent demo --duration 1m
  edge-agent demo --raw                      # the JSON messages themselves
  edge-agent demo --broker tcp://127.0.0.1:1883`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, opts)
		},
	}
	cmd.Flags().DurationVarP(&opts.duration, "duration", "d", 0, "stop after this long (default: until Ctrl-C)")
	cmd.Flags().DurationVarP(&opts.window, "window", "w", 0, "window length (default: the config's, 10s)")
	cmd.Flags().StringVar(&opts.brokerURL, "broker", "", "publish to this broker instead of an embedded one")
	cmd.Flags().StringVar(&opts.stateDir, "state-dir", "", "keep the outbox here (default: a temporary directory, removed at exit)")
	cmd.Flags().StringVarP(&opts.configPath, "config", "c", "", "a simulated store config instead of the built-in one")
	cmd.Flags().BoolVar(&opts.raw, "raw", false, "print each message's topic and JSON payload")
	return cmd
}

func runDemo(cmd *cobra.Command, opts *demoOptions) error {
	var cfg *config.Config
	var err error
	if opts.configPath != "" {
		cfg, err = config.Load(opts.configPath)
	} else {
		cfg, err = config.Parse("demo.yaml (built in)", configs.Demo)
	}
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if opts.stateDir != "" {
		cfg.StateDir = opts.stateDir
	}
	if opts.window != 0 {
		cfg.Window = opts.window
	}
	if cfg.StateDir == "" {
		dir, err := os.MkdirTemp("", "edge-agent-demo-")
		if err != nil {
			return withCode(exitFailure, err)
		}
		defer os.RemoveAll(dir)
		cfg.StateDir = dir
	}
	cfg.StatusSocket = filepath.Join(cfg.StateDir, "status.sock")
	if opts.brokerURL != "" {
		cfg.MQTT.Broker = opts.brokerURL
	}
	out := cmd.OutOrStdout()
	if cfg.MQTT.Broker == "" {
		b, err := broker.Start("127.0.0.1:0", nil)
		if err != nil {
			return withCode(exitFailure, err)
		}
		defer b.Close()
		cfg.MQTT.Broker = b.URL()
		view := newDemoView(out, opts.raw)
		if err := b.Subscribe(cfg.MQTT.TopicPrefix+"/#", func(m broker.Message) { view.show(m.Topic, m.Payload) }); err != nil {
			return withCode(exitFailure, err)
		}
		fmt.Fprintf(out, "embedded MQTT broker on %s (subscribe: mosquitto_sub -h %s -p %s -t '%s/#' -v)\n",
			cfg.MQTT.Broker, hostOf(b.Addr()), portOf(b.Addr()), cfg.MQTT.TopicPrefix)
	} else {
		fmt.Fprintf(out, "publishing to %s under %s/%s/%s/\n", cfg.MQTT.Broker, cfg.MQTT.TopicPrefix, cfg.StoreID, cfg.AgentID)
	}
	if err := cfg.Validate(); err != nil {
		return withCode(exitBadInput, err)
	}
	fmt.Fprintf(out, "simulated store %s, %s windows:\n%s", cfg.StoreID, cfg.Window, describeSensors(cfg))
	fmt.Fprintf(out, "ask the daemon: edge-agent status --socket %s\n\n", cfg.StatusSocket)

	ctx := cmd.Context()
	if opts.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.duration)
		defer cancel()
	}
	cmd.SetContext(ctx)
	return runAgent(cmd, cfg)
}

func describeSensors(cfg *config.Config) string {
	var b strings.Builder
	for _, s := range cfg.Sensors {
		what := s.Kind
		switch s.Kind {
		case "tof-2zone":
			what = "VL53L1X emulator, two zones"
		case "tof-presence":
			what = "VL53L1X emulator, presence"
			if s.ADC != "" {
				what = "Sharp " + strings.ToUpper(s.Sharp) + " on an MCP3008 emulator"
			}
		case "beam-pair":
			what = "IR beam pair on fake GPIO"
		case "pulse":
			what = "pulse counter on fake GPIO"
		case "pir":
			what = "PIR on fake GPIO"
		case "nfc-plate":
			what = "NTAG I2C plus emulator"
		case "nfc-reader":
			what = "PN532 emulator"
		}
		fmt.Fprintf(&b, "  %-16s %-9s %s\n", s.ID, s.Role, what)
	}
	return b.String()
}

func hostOf(addr string) string { h, _, _ := strings.Cut(addr, ":"); return h }
func portOf(addr string) string { _, p, _ := strings.Cut(addr, ":"); return p }

// demoView prints what the agent publishes, a few lines per window.
type demoView struct {
	mu      gosync.Mutex
	w       io.Writer
	raw     bool
	pending map[string][]map[string]any // window_start -> its sensor messages
}

func newDemoView(w io.Writer, raw bool) *demoView {
	return &demoView{w: w, raw: raw, pending: map[string][]map[string]any{}}
}

func (v *demoView) show(topic string, payload []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.raw {
		fmt.Fprintf(v.w, "%s %s\n", topic, payload)
		return
	}
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return
	}
	switch m["type"] {
	case "sensor_window":
		ws, _ := m["window_start"].(string)
		v.pending[ws] = append(v.pending[ws], m)
	case "store_window":
		ws, _ := m["window_start"].(string)
		sensors := v.pending[ws]
		delete(v.pending, ws)
		v.printWindow(m, sensors)
	default:
		if strings.HasSuffix(topic, "/status") {
			fmt.Fprintf(v.w, "status: %s\n", m["state"])
		}
	}
}

// printWindow writes the people line, then shelves and NFC when there are.
func (v *demoView) printWindow(store map[string]any, sensors []map[string]any) {
	byRole := map[string][]string{}
	for _, m := range sensors {
		r, _ := m["role"].(string)
		byRole[r] = append(byRole[r], fmt.Sprintf("%s %s", m["sensor"], roleSummary(m)))
	}
	for _, l := range byRole {
		sort.Strings(l)
	}
	hist := ""
	if store["historical"] == true {
		hist = " (historical)"
	}
	head := fmt.Sprintf("%s–%s%s  ", clock(store["window_start"]), clock(store["window_end"]), hist)
	pad := strings.Repeat(" ", len([]rune(head)))
	people := append(append([]string(nil), byRole["entrance"]...), byRole["passerby"]...)
	fmt.Fprintf(v.w, "%s%s → in %v out %v passers-by %v, entry rate %s, occupancy %v\n", head,
		strings.Join(people, " | "), store["entries"], store["exits"], store["passersby"], rate(store["entry_rate"]), store["occupancy"])
	if sh := byRole["shelf"]; len(sh) > 0 {
		fmt.Fprintf(v.w, "%sshelves: %s → stop-by rate %s\n", pad, strings.Join(sh, " | "), rateMap(store["stop_by_rate"]))
	}
	if nfc := append(append([]string(nil), byRole["plate"]...), byRole["checkin"]...); len(nfc) > 0 {
		fmt.Fprintf(v.w, "%snfc: %s → tap rate %s\n", pad, strings.Join(nfc, " | "), rateMap(store["tap_rate"]))
	}
}

func roleSummary(m map[string]any) string {
	switch m["role"] {
	case "entrance":
		return fmt.Sprintf("in %v out %v", m["entries"], m["exits"])
	case "passerby":
		return fmt.Sprintf("passers-by %v", m["passersby"])
	case "shelf":
		s := fmt.Sprintf("stop-bys %v", m["stop_bys"])
		if p50, ok := m["dwell_p50_ms"].(float64); ok {
			s += fmt.Sprintf(" dwell p50 %.1fs", p50/1000)
		}
		return s
	case "plate":
		return fmt.Sprintf("taps %v", m["taps"])
	case "checkin":
		return fmt.Sprintf("check-ins %v", m["checkins"])
	}
	return ""
}

// rateMap renders {"shelf-a":0.14,"shelf-b":null} as "shelf-a 0.14 shelf-b -".
func rateMap(v any) string {
	m, _ := v.(map[string]any)
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, k+" "+rate(m[k]))
	}
	return strings.Join(parts, " ")
}

func clock(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format("15:04:05")
}

func rate(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%.2f", f)
	}
	return "-"
}
