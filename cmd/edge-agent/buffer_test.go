package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/internal/buffer"
)

// withCmd returns the root command with cmd registered (root.go may
// already register it).
func withCmd(root *cobra.Command, name string, cmd func() *cobra.Command) *cobra.Command {
	if c, _, err := root.Find([]string{name}); err != nil || c == root {
		root.AddCommand(cmd())
	}
	return root
}

// runIn executes the CLI with stdin as its input.
func runIn(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(&out, &errb)
	withCmd(root, "buffer", newBufferCmd)
	withCmd(root, "probe", newProbeCmd)
	root.SetIn(stdin)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCode(err)
		errb.WriteString("edge-agent: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

var outboxT0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// fillOutbox writes an outbox in dir as the daemon would: two commits of
// windows, the first window sent (acked), so four remain, seqs 2..5.
func fillOutbox(t *testing.T, dir string) {
	t.Helper()
	now := outboxT0
	o := buffer.DefaultOptions()
	o.Clock = func() time.Time { return now }
	ob, err := buffer.Open(filepath.Join(dir, outboxFile), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	stage := func(topic string, n int) {
		ob.Stage(topic, func(seq uint64) []byte {
			return fmt.Appendf(nil, `{"seq":%d,"sensor":%q,"counts":{"in":%d}}`, seq, topic, n)
		})
	}
	stage("agg/door-1", 3)
	stage("agg/door-2", 1)
	stage("store", 4)
	if err := ob.Commit(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	stage("agg/door-1", 5)
	ob.Stage("agg/raw", func(uint64) []byte { return []byte{0xff, 0x00, 'x'} }) // not JSON
	if err := ob.Commit(); err != nil {
		t.Fatal(err)
	}
	ob.Ack(1)
	now = now.Add(time.Minute)
	if err := ob.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBufferStatsGolden(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	// A corrupt file moved aside by an earlier start.
	if err := os.WriteFile(filepath.Join(dir, outboxFile+".corrupt-20261119T080000.000Z"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runIn(t, nil, "buffer", "stats", "--state-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "buffer/stats.txt", strings.ReplaceAll(out, dir, "STATE"))

	out, errOut, code = runIn(t, nil, "buffer", "stats", "--state-dir", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var st bufferStats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if st.Depth != 4 || st.OldestSeq != 2 || st.LastSeq != 5 || st.Dropped != 0 || st.OldestAt == nil ||
		!st.OldestAt.Equal(outboxT0) || len(st.MovedAside) != 1 || st.FileBytes == 0 || st.Bytes == 0 {
		t.Fatalf("stats json: %+v", st)
	}
}

func TestBufferStatsViaConfig(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("store_id: s1\nstate_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runIn(t, nil, "buffer", "stats", "--config", cfg)
	if code != 0 || !strings.Contains(out, "unsent       4 windows") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	_, errOut, code = runIn(t, nil, "buffer", "stats", "--config", filepath.Join(dir, "none.yaml"))
	if code != exitBadInput || !strings.Contains(errOut, "--state-dir") {
		t.Fatalf("missing config: exit %d: %s", code, errOut)
	}
}

func TestBufferMissingOutbox(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runIn(t, nil, "buffer", "stats", "--state-dir", dir)
	if code != exitFailure || !strings.Contains(errOut, "no outbox at") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, outboxFile)); err == nil {
		t.Fatal("stats created an outbox")
	}
}

func TestBufferExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	file := filepath.Join(t.TempDir(), "out.jsonl")
	stdout, errOut, code := runIn(t, nil, "buffer", "export", "--state-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, errOut, code := runIn(t, nil, "buffer", "export", "--state-dir", dir, "--file", file); code != 0 || !strings.Contains(errOut, "exported 4 unsent windows") {
		t.Fatalf("export --file: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != stdout {
		t.Fatalf("--file and stdout differ:\n%s\n%s", data, stdout)
	}

	// Every line decodes to what the outbox holds, byte for byte.
	o := buffer.DefaultOptions()
	ob, err := buffer.Open(filepath.Join(dir, outboxFile), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ob.Pending(0, 100)
	ob.Close()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var got []buffer.Record
	for sc.Scan() {
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		p := []byte(l.Payload)
		if l.PayloadBase64 != nil {
			p = l.PayloadBase64
		}
		got = append(got, buffer.Record{Seq: l.Seq, Topic: l.Topic, Payload: p})
	}
	if len(got) != len(want) || len(got) != 4 {
		t.Fatalf("exported %d records, outbox holds %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].Topic != want[i].Topic || !bytes.Equal(got[i].Payload, want[i].Payload) {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if !strings.Contains(stdout, `"payload":{"seq":2,"sensor":"agg/door-2","counts":{"in":1}}`) {
		t.Fatalf("JSON payload not inlined:\n%s", stdout)
	}
}

func TestBufferPurgeYes(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	out, errOut, code := runIn(t, nil, "buffer", "purge", "--state-dir", dir, "--yes")
	if code != 0 || !strings.Contains(out, "deleted 4 unsent windows") || !strings.Contains(out, "seq counter stays at 5") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	ob, err := buffer.Open(filepath.Join(dir, outboxFile), buffer.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := ob.Stats()
	ob.Close()
	if st.Depth != 0 || st.Bytes != 0 || st.LastSeq != 5 {
		t.Fatalf("after purge: %+v", st)
	}
	out, errOut, code = runIn(t, nil, "buffer", "purge", "--state-dir", dir)
	if code != 0 || !strings.Contains(out, "nothing to purge") {
		t.Fatalf("empty purge: exit %d: %s%s", code, out, errOut)
	}
	// The seq counter carries on: the next window is 6, never a reused seq.
	ob, err = buffer.Open(filepath.Join(dir, outboxFile), buffer.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	if seq := ob.Stage("store", func(uint64) []byte { return []byte("{}") }); seq != 6 {
		t.Fatalf("next seq after purge %d, want 6", seq)
	}
}

func TestBufferPurgeRefusedWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	_, errOut, code := runIn(t, strings.NewReader("y\n"), "buffer", "purge", "--state-dir", dir)
	if code != exitUsage || !strings.Contains(errOut, "refusing to delete 4 unsent windows") || !strings.Contains(errOut, "--yes") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out, _, _ := runIn(t, nil, "buffer", "stats", "--state-dir", dir)
	if !strings.Contains(out, "unsent       4 windows") {
		t.Fatalf("purge without confirmation deleted something:\n%s", out)
	}
}

func TestBufferPurgeAsks(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	for _, tc := range []struct {
		answer  string
		deleted bool
	}{{"n\n", false}, {"\n", false}, {"y\n", true}} {
		var out, errb bytes.Buffer
		opts := &bufferOptions{stateDir: dir, stdout: &out, stderr: &errb, stdin: strings.NewReader(tc.answer),
			isTerminal: func(io.Reader) bool { return true }}
		if err := runBufferPurge(opts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errb.String(), "delete 4 unsent windows? [y/N]") {
			t.Fatalf("answer %q: no question: %q", tc.answer, errb.String())
		}
		if got := strings.Contains(out.String(), "deleted 4"); got != tc.deleted {
			t.Fatalf("answer %q: %s", tc.answer, out.String())
		}
	}
}

func TestBufferDaemonRunning(t *testing.T) {
	dir := t.TempDir()
	fillOutbox(t, dir)
	// The daemon holds the file for as long as it runs.
	ob, err := buffer.Open(filepath.Join(dir, outboxFile), buffer.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	for _, sub := range []string{"stats", "export", "purge"} {
		_, errOut, code := runIn(t, nil, "buffer", sub, "--state-dir", dir, "--yes")
		if sub != "purge" {
			_, errOut, code = runIn(t, nil, "buffer", sub, "--state-dir", dir)
		}
		if code != exitDaemonRunning || !strings.Contains(errOut, "the daemon is running: stop it (systemctl stop edge-agent)") ||
			!strings.Contains(errOut, "edge-agent status") {
			t.Fatalf("%s with the daemon running: exit %d: %s", sub, code, errOut)
		}
	}
	if st := ob.Stats(); st.Depth != 4 {
		t.Fatalf("daemon's outbox changed: %+v", st)
	}
}

func TestBufferHelp(t *testing.T) {
	out, _, code := runIn(t, nil, "buffer", "purge", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--yes") {
		t.Fatalf("exit %d: %s", code, out)
	}
}
