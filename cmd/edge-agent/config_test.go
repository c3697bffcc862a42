package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every bad config in testdata/config/bad-*.yaml is refused with exit 3 and
// the message in its .golden file: which file, line and key, and what to do.
func TestConfigValidateBadGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/bad-*.yaml")
	if len(files) < 10 {
		t.Fatalf("only %d bad configs", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, errOut, code := run(t, "config", "validate", f)
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitBadInput, errOut)
			}
			golden(t, strings.TrimSuffix(strings.TrimPrefix(f, "testdata/"), ".yaml")+".golden", errOut)
		})
	}
}

func TestConfigValidateShippedConfigs(t *testing.T) {
	out, errOut, code := run(t, "config", "validate", "../../configs/store.example.yaml")
	if code != 0 {
		t.Fatalf("the example config is not valid: %s", errOut)
	}
	if !strings.Contains(out, "valid") {
		t.Fatalf("output %q", out)
	}
	// The demo config leaves the broker and state dir to the demo command.
	_, errOut, code = run(t, "config", "validate", "../../configs/demo.yaml")
	if code != exitBadInput || !strings.Contains(errOut, "demo.yaml:") {
		t.Fatalf("demo config validated alone: %d %s", code, errOut)
	}
}

func TestConfigValidateJSON(t *testing.T) {
	out, _, code := run(t, "config", "validate", "--output", "json", "testdata/config/bad-unknown-key.yaml")
	if code != exitBadInput || !strings.Contains(out, `"valid":false`) || !strings.Contains(out, `"line":`) {
		t.Fatalf("json: %d %s", code, out)
	}
	if _, err := os.Stat("testdata/config/bad-unknown-key.yaml"); err != nil {
		t.Fatal(err)
	}
}
