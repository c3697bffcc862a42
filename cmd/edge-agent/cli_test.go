package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// run executes the CLI as a user would and returns stdout, stderr and the
// exit code main would use.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(&out, &errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		code = exitCode(err)
		errb.WriteString("edge-agent: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version", "--output", "json")
	if code != 0 || !strings.Contains(out, `"version":"dev"`) {
		t.Fatalf("version: %d %s", code, out)
	}
	if _, _, code := run(t, "version", "--output", "yaml"); code != exitUsage {
		t.Fatalf("bad --output gave exit %d, want %d", code, exitUsage)
	}
}

func TestExitCodes(t *testing.T) {
	if _, _, code := run(t, "no-such-command"); code != exitUsage {
		t.Fatalf("unknown command: exit %d", code)
	}
	_, errOut, code := run(t, "status", "--socket", filepath.Join(t.TempDir(), "none.sock"))
	if code != exitNotRunning || !strings.Contains(errOut, "no edge-agent daemon is running") {
		t.Fatalf("status with no daemon: exit %d: %s", code, errOut)
	}
	if !errors.Is(&exitError{code: 3, err: os.ErrNotExist}, os.ErrNotExist) {
		t.Fatal("exitError does not unwrap")
	}
}
