package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"

	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/config"
)

// outboxFile is the outbox's name in the state directory (what the agent opens).
const outboxFile = "outbox.db"

// bufferLockTimeout is how long the buffer commands wait for the daemon's
// lock on the outbox: it holds it for as long as it runs, so waiting longer
// would only delay the message.
const bufferLockTimeout = 300 * time.Millisecond

// bufferOptions are the flags of buffer stats, export and purge.
type bufferOptions struct {
	configPath string
	stateDir   string
	output     string // stats
	file       string // export: "" = stdout
	yes        bool   // purge

	stdout, stderr io.Writer
	stdin          io.Reader
	// isTerminal reports whether stdin is a terminal a person can answer
	// the purge question on; tests swap it.
	isTerminal func(io.Reader) bool
}

func newBufferCmd() *cobra.Command {
	opts := &bufferOptions{isTerminal: readerIsTerminal}
	cmd := &cobra.Command{
		Use:   "buffer",
		Short: "Inspect, export or empty the outbox of unsent windows",
		Long: `Works on the outbox file (state_dir/outbox.db) directly, with the daemon
stopped: the running daemon holds the file's lock. With the daemon running
these commands say so and exit 6; "edge-agent status" shows the outbox
figures of a running daemon.`,
		Example: `  edge-agent buffer stats
  edge-agent buffer export --file /tmp/outbox.jsonl
  sudo systemctl stop edge-agent && edge-agent buffer purge --yes`,
	}
	cmd.PersistentFlags().StringVarP(&opts.configPath, "config", "c", "/etc/edge-agent/config.yaml", "config file naming the state directory")
	cmd.PersistentFlags().StringVar(&opts.stateDir, "state-dir", "", "state directory holding outbox.db (instead of the config's state_dir)")
	pre := func(cmd *cobra.Command) {
		opts.stdout, opts.stderr, opts.stdin = cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.InOrStdin()
	}

	stats := &cobra.Command{
		Use:   "stats",
		Short: "Show how many windows wait to be sent, and since when",
		Long: `Shows the outbox: unsent windows and their bytes, the oldest one's seq and
commit time, the last seq handed out, windows dropped because the outbox
was full, the file's size and corrupt files moved aside next to it.`,
		Example: "  edge-agent buffer stats\n  edge-agent buffer stats --state-dir /tmp/edge-agent-demo -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.output); err != nil {
				return err
			}
			pre(cmd)
			return runBufferStats(opts)
		},
	}
	outputFlag(stats, &opts.output)

	export := &cobra.Command{
		Use:   "export",
		Short: "Write every unsent window as JSON Lines",
		Long: `Writes every unsent window, oldest first, one JSON object a line:
{"seq":…,"topic":"agg/door-1","payload":{…}}. The payload is the message
as it would be published (a payload that is not JSON is given as
"payload_base64"). The outbox is left as it was.`,
		Example: "  edge-agent buffer export > outbox.jsonl\n  edge-agent buffer export --file /tmp/outbox.jsonl --state-dir /var/lib/edge-agent",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pre(cmd)
			return runBufferExport(opts)
		},
	}
	export.Flags().StringVarP(&opts.file, "file", "f", "", "write to this file instead of stdout")

	purge := &cobra.Command{
		Use:   "purge",
		Short: "Delete every unsent window (asks first)",
		Long: `Deletes every unsent window: they will never reach the cloud. Asks for
confirmation on a terminal; without one (a script) it refuses unless --yes
is given, with exit code 2. The seq counter and the dropped count are kept,
so the cloud sees no reused seq. Export first if the data may be needed.`,
		Example: "  edge-agent buffer purge\n  edge-agent buffer export --file saved.jsonl && edge-agent buffer purge --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pre(cmd)
			return runBufferPurge(opts)
		},
	}
	purge.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")

	cmd.AddCommand(stats, export, purge)
	return cmd
}

// outboxPath is the outbox file the options name.
func (o *bufferOptions) outboxPath() (string, error) {
	if o.stateDir != "" {
		return filepath.Join(o.stateDir, outboxFile), nil
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return "", withCode(exitBadInput, fmt.Errorf("%w (or name the state directory with --state-dir)", err))
	}
	return filepath.Join(cfg.StateDir, outboxFile), nil
}

// openOutbox opens the outbox for the buffer commands: never creates one,
// and says so plainly when the daemon holds it.
func (o *bufferOptions) openOutbox() (*buffer.Outbox, string, error) {
	path, err := o.outboxPath()
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", withCode(exitFailure, fmt.Errorf("no outbox at %s: the daemon has not run with this state directory", path))
		}
		return nil, "", withCode(exitFailure, err)
	}
	bo := buffer.DefaultOptions()
	bo.LockTimeout = bufferLockTimeout
	// Never drop anything on the way: the bound is the daemon's business.
	bo.MaxBytes = 1 << 62
	// A corrupt file is moved aside by Open as the daemon would: say so.
	log := slog.New(slog.NewTextHandler(o.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ob, err := buffer.Open(path, bo, log)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, "", withCode(exitDaemonRunning, fmt.Errorf("%s is locked: the daemon is running: stop it (systemctl stop edge-agent) or use `edge-agent status` for the outbox figures", path))
		}
		return nil, "", withCode(exitFailure, err)
	}
	return ob, path, nil
}

// bufferStats is the JSON answer of buffer stats.
type bufferStats struct {
	Path       string     `json:"path"`
	FileBytes  int64      `json:"file_bytes"`
	Depth      int        `json:"depth"`
	Bytes      int64      `json:"bytes"`
	OldestSeq  uint64     `json:"oldest_seq,omitempty"`
	OldestAt   *time.Time `json:"oldest_at,omitempty"`
	LastSeq    uint64     `json:"last_seq"`
	Dropped    uint64     `json:"dropped"`
	MovedAside []string   `json:"moved_aside"` // corrupt files next to the outbox, oldest first
}

func runBufferStats(opts *bufferOptions) error {
	ob, path, err := opts.openOutbox()
	if err != nil {
		return err
	}
	st := ob.Stats()
	if err := ob.Close(); err != nil {
		return withCode(exitFailure, err)
	}
	res := bufferStats{Path: path, Depth: st.Depth, Bytes: st.Bytes, OldestSeq: st.OldestSeq,
		LastSeq: st.LastSeq, Dropped: st.Dropped, MovedAside: movedAside(path)}
	if fi, err := os.Stat(path); err == nil {
		res.FileBytes = fi.Size()
	}
	if !st.OldestAt.IsZero() {
		t := st.OldestAt.UTC()
		res.OldestAt = &t
	}
	if opts.output == "json" {
		enc := json.NewEncoder(opts.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printBufferStats(opts.stdout, res)
}

func printBufferStats(w io.Writer, s bufferStats) error {
	var b strings.Builder
	fmt.Fprintf(&b, "outbox       %s (%d bytes on disk)\n", s.Path, s.FileBytes)
	fmt.Fprintf(&b, "unsent       %d windows, %d bytes\n", s.Depth, s.Bytes)
	if s.OldestAt != nil {
		fmt.Fprintf(&b, "oldest       seq %d, committed %s\n", s.OldestSeq, s.OldestAt.Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "oldest       -\n")
	}
	fmt.Fprintf(&b, "last seq     %d\n", s.LastSeq)
	fmt.Fprintf(&b, "dropped      %d (outbox full since the file was created)\n", s.Dropped)
	if len(s.MovedAside) == 0 {
		fmt.Fprintf(&b, "moved aside  none\n")
	} else {
		fmt.Fprintf(&b, "moved aside  %d corrupt file(s), kept for support:\n", len(s.MovedAside))
		for _, p := range s.MovedAside {
			fmt.Fprintf(&b, "             %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// movedAside lists the corrupt files the outbox moved aside, oldest first
// (their names end in the UTC time they were moved).
func movedAside(path string) []string {
	m, _ := filepath.Glob(path + ".corrupt-*")
	slices.Sort(m)
	if m == nil {
		m = []string{}
	}
	return m
}

// exportLine is one line of buffer export.
type exportLine struct {
	Seq           uint64          `json:"seq"`
	Topic         string          `json:"topic"`
	Payload       json.RawMessage `json:"payload,omitempty"`
	PayloadBase64 []byte          `json:"payload_base64,omitempty"`
}

// exportPage is how many records one Pending call reads.
const exportPage = 256

func runBufferExport(opts *bufferOptions) (err error) {
	ob, _, err := opts.openOutbox()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := ob.Close(); cerr != nil && err == nil {
			err = withCode(exitFailure, cerr)
		}
	}()
	out := opts.stdout
	var f *os.File
	if opts.file != "" {
		if f, err = os.OpenFile(opts.file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return withCode(exitFailure, err)
		}
		out = f
	}
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	n := 0
	werr := eachPending(ob, func(r buffer.Record) error {
		l := exportLine{Seq: r.Seq, Topic: r.Topic}
		if json.Valid(r.Payload) {
			l.Payload = r.Payload
		} else {
			l.PayloadBase64 = r.Payload
		}
		n++
		return enc.Encode(l)
	})
	if werr == nil {
		werr = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
	}
	if werr != nil {
		return withCode(exitFailure, werr)
	}
	if opts.file != "" {
		fmt.Fprintf(opts.stderr, "exported %d unsent windows to %s\n", n, opts.file)
	}
	return nil
}

// eachPending calls fn for every committed, unsent record in seq order.
func eachPending(ob *buffer.Outbox, fn func(buffer.Record) error) error {
	var after uint64
	for {
		recs, err := ob.Pending(after, exportPage)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Seq
		}
		if len(recs) < exportPage {
			return nil
		}
	}
}

func runBufferPurge(opts *bufferOptions) (err error) {
	ob, path, err := opts.openOutbox()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := ob.Close(); cerr != nil && err == nil {
			err = withCode(exitFailure, cerr)
		}
	}()
	var seqs []uint64
	if err := eachPending(ob, func(r buffer.Record) error { seqs = append(seqs, r.Seq); return nil }); err != nil {
		return withCode(exitFailure, err)
	}
	before := ob.Stats()
	if len(seqs) == 0 {
		_, err := fmt.Fprintf(opts.stdout, "nothing to purge: %s holds no unsent windows\n", path)
		return err
	}
	if !opts.yes {
		if !opts.isTerminal(opts.stdin) {
			return withCode(exitUsage, fmt.Errorf("refusing to delete %d unsent windows without confirmation: no terminal to ask on; pass --yes", len(seqs)))
		}
		fmt.Fprintf(opts.stderr, "delete %d unsent windows? [y/N] ", len(seqs))
		line, _ := bufio.NewReader(opts.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			_, err := fmt.Fprintln(opts.stdout, "nothing deleted")
			return err
		}
	}
	ob.Ack(seqs...)
	if err := ob.Commit(); err != nil {
		return withCode(exitFailure, err)
	}
	after := ob.Stats()
	_, err = fmt.Fprintf(opts.stdout, "deleted %d unsent windows (%d bytes, seq %d..%d); %d left; seq counter stays at %d, dropped stays %d\n",
		len(seqs), before.Bytes-after.Bytes, seqs[0], seqs[len(seqs)-1], after.Depth, after.LastSeq, after.Dropped)
	return err
}

// readerIsTerminal reports whether r is an interactive terminal: a
// character device other than /dev/null.
func readerIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
