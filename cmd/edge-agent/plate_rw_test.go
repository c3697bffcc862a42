package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/plate"
)

// plateRig is a config with one plate on "hardware" whose tag is an
// emulated NTAG I2C plus (through the openPlateTag hook).
type plateRig struct {
	dir, config string
	emu         *ntagtest.Emulator
}

func newPlateRig(t *testing.T) *plateRig {
	t.Helper()
	r := &plateRig{dir: t.TempDir(), emu: ntagtest.New(&ntagtest.Opts{EEPROMWriteTime: 50 * time.Microsecond})}
	secret := filepath.Join(r.dir, "plate.secret")
	if err := os.WriteFile(secret, []byte(plateSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.config = filepath.Join(r.dir, "config.yaml")
	y := fmt.Sprintf(`store_id: s1
agent_id: a1
state_dir: %q
status_socket: %q
mqtt: {broker: "tcp://127.0.0.1:1883"}
nfc: {plate_secret_file: %q}
sensors:
  - id: plate-1
    kind: nfc-plate
    role: plate
    nfc: {bus: "1", base_url: "https://c.example.com/t"}
`, r.dir, filepath.Join(r.dir, "status.sock"), secret)
	if err := os.WriteFile(r.config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	prev := openPlateTag
	openPlateTag = func(cfg *config.Config, id string) (plateTag, func() error, error) {
		if id != "plate-1" {
			return nil, nil, fmt.Errorf("no plate %q", id)
		}
		dev, err := ntag.New(r.emu, &ntag.Opts{LockTimeout: 5 * time.Millisecond})
		if err != nil {
			return nil, nil, err
		}
		return dev, func() error { return dev.Halt() }, nil
	}
	t.Cleanup(func() { openPlateTag = prev })
	return r
}

// run runs edge-agent with read and write-url under plate (whether or not
// plate.go registers them yet).
func (r *plateRig) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(&out, &errb)
	pc, _, err := root.Find([]string{"plate"})
	if err != nil || pc == root {
		pc = newPlateCmd()
		root.AddCommand(pc)
	}
	for _, c := range [][2]any{{"read", newPlateReadCmd}, {"write-url", newPlateWriteURLCmd}} {
		if sub, _, err := pc.Find([]string{c[0].(string)}); err != nil || sub == pc {
			pc.AddCommand(c[1].(func() *cobra.Command)())
		}
	}
	root.SetArgs(append(args, "--config", r.config))
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCode(err)
		errb.WriteString("edge-agent: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

// phone reads the tag over RF, as a phone tapping it.
func (r *plateRig) phone(t *testing.T) string {
	t.Helper()
	r.emu.PhoneTap()
	defer r.emu.PhoneLeave()
	msg, err := r.emu.RFReadNDEF()
	if err != nil {
		t.Fatal(err)
	}
	u, err := plate.DecodeURI(msg)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPlateWriteURLAndRead(t *testing.T) {
	r := newPlateRig(t)
	// An empty tag.
	out, errs, code := r.run(t, "plate", "read", "--plate", "plate-1")
	if code != 0 || !strings.Contains(out, "url     - (") || !strings.Contains(out, "field   off") {
		t.Fatalf("read of an empty tag: exit %d\n%s%s", code, out, errs)
	}
	// Static content.
	out, errs, code = r.run(t, "plate", "write-url", "--plate", "plate-1", "https://example.com/survey")
	if code != 0 || out != "plate plate-1 now holds https://example.com/survey\n" {
		t.Fatalf("write-url: exit %d\n%s%s", code, out, errs)
	}
	if got := r.phone(t); got != "https://example.com/survey" {
		t.Fatalf("phone reads %s", got)
	}
	// One-time URLs: the next one is written, and it verifies.
	out, errs, code = r.run(t, "plate", "write-url", "--plate", "plate-1", "--one-time", "https://c2.example.com/t", "-o", "json")
	if code != 0 {
		t.Fatalf("write-url --one-time: exit %d\n%s%s", code, out, errs)
	}
	var w plateWriteResult
	if err := json.Unmarshal([]byte(out), &w); err != nil || w.Counter == nil {
		t.Fatalf("json %q: %v", out, err)
	}
	u := r.phone(t)
	c, err := plateurl.Verify(u, []byte(plateSecret))
	if err != nil || u != w.Written || c.Counter != *w.Counter || !strings.HasPrefix(u, "https://c2.example.com/t?p=plate-1&") {
		t.Fatalf("tag holds %s (%v), CLI said %+v", u, err, w)
	}
	st, _ := os.ReadFile(filepath.Join(r.dir, "plates", "plate-1.json"))
	if !strings.Contains(string(st), `"from":"cli"`) {
		t.Fatalf("state not saved as set by the CLI: %s", st)
	}
	// read sees it, checked against the secret; a phone on the plate shows.
	r.emu.PhoneTap()
	out, errs, code = r.run(t, "plate", "read", "--plate", "plate-1", "-o", "json")
	r.emu.PhoneLeave()
	var rd plateReadResult
	if code != 0 || json.Unmarshal([]byte(out), &rd) != nil {
		t.Fatalf("read: exit %d\n%s%s", code, out, errs)
	}
	if rd.URL != u || rd.Coupon != "valid" || rd.Counter == nil || *rd.Counter != c.Counter || !rd.Field || !strings.HasPrefix(rd.Chip, "NT3H2111") {
		t.Fatalf("read %+v", rd)
	}
	if strings.Contains(out+errs, plateSecret) {
		t.Fatal("the secret was printed")
	}
}

func TestPlateWriteURLRefusals(t *testing.T) {
	r := newPlateRig(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--plate", "plate-1", "ftp://example.com/x"}, exitBadInput, "https://"},
		{[]string{"--plate", "plate-1", "--one-time", "https://example.com/t?m=1"}, exitBadInput, `"m" parameter`},
		{[]string{"--plate", "plate-1", "https://example.com/" + strings.Repeat("x", 900)}, exitBadInput, "does not fit"},
		{[]string{"--plate", "plate-9", "https://example.com/x"}, exitFailure, `no plate "plate-9"`},
		{[]string{"https://example.com/x"}, exitUsage, "plate"},
	} {
		out, errs, code := r.run(t, append([]string{"plate", "write-url"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d (want %d)\n%s%s", c.args, code, c.code, out, errs)
		}
	}
	if r.emu.Stats().BlockWrites != 0 {
		t.Fatal("a refused write-url wrote the tag")
	}
	// A phone that stays: the content is saved, the tag untouched, exit 1.
	r.emu.PhoneTap()
	_, errs, code := r.run(t, "plate", "write-url", "--plate", "plate-1", "--wait", "200ms", "https://example.com/x")
	r.emu.PhoneLeave()
	if code != exitFailure || !strings.Contains(errs, "a phone stayed on the plate") || r.emu.Stats().BlockWrites != 0 {
		t.Fatalf("phone on the plate: exit %d, %s", code, errs)
	}
}

// With the daemon running, read and write-url say so and touch nothing.
func TestPlateCommandsRefuseWhileDaemonRuns(t *testing.T) {
	r := newPlateRig(t)
	l, err := net.Listen("unix", filepath.Join(r.dir, "status.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = bufio.NewReader(c).ReadBytes('\n')
			_, _ = c.Write([]byte(`{"status":{"store":"s1","agent":"a1"}}` + "\n"))
			c.Close()
		}
	}()
	for _, args := range [][]string{
		{"plate", "read", "--plate", "plate-1"},
		{"plate", "write-url", "--plate", "plate-1", "https://example.com/x"},
	} {
		_, errs, code := r.run(t, args...)
		if code != exitFailure || !strings.Contains(errs, "daemon is running") {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
	if s := r.emu.Stats(); s.Tx != 0 {
		t.Fatalf("the tag was accessed %d times with the daemon running", s.Tx)
	}
}
