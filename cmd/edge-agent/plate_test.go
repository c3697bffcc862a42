package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	plateSecret = "example store secret 0123456789"
	plateURL    = "https://c.example.com/t?p=plate-1&c=42&m=xXOa7uE_tPvD8xq_Pg858A" // vector of drivers/nfc/plateurl
)

// runPlate runs the CLI with the plate command registered (whether or not
// root.go already does).
func runPlate(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(&out, &errb)
	if c, _, err := root.Find([]string{"plate"}); err != nil || c == root {
		root.AddCommand(newPlateCmd())
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCode(err)
		errb.WriteString("edge-agent: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

func secretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plate.secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlateVerify(t *testing.T) {
	sf := secretFile(t, plateSecret+"\n")
	other := secretFile(t, "another store's secret 98765432\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"valid", []string{plateURL, "--secret-file", sf}, 0, "valid: plate plate-1, counter 42\n", ""},
		{"valid json", []string{plateURL, "--secret-file", sf, "-o", "json"}, 0,
			`{"url":"` + plateURL + `","valid":true,"plate":"plate-1","counter":42}`, ""},
		{"counter 0 json", []string{"https://c.example.com/t?store=12&p=shelf-a.plate_2&c=0&m=HmJqPc95dpiBXbneqAd9qQ#top", "--secret-file", sf, "-o", "json"}, 0,
			`"valid":true,"plate":"shelf-a.plate_2","counter":0}`, ""},
		{"counter changed", []string{strings.Replace(plateURL, "c=42", "c=43", 1), "--secret-file", sf}, exitBadInput, "", "MAC does not match"},
		{"wrong secret json", []string{plateURL, "--secret-file", other, "-o", "json"}, exitBadInput, `"valid":false,"reason":"bad_mac"`, "MAC does not match"},
		{"malformed", []string{"https://c.example.com/t?p=plate-1", "--secret-file", sf}, exitBadInput, "", `no "c" parameter`},
		{"malformed json", []string{"https://c.example.com/t", "--secret-file", sf, "-o", "json"}, exitBadInput, `"reason":"malformed"`, "no query"},
		{"missing secret file", []string{plateURL, "--secret-file", sf + ".nope"}, exitFailure, "", sf + ".nope"},
		{"short secret", []string{plateURL, "--secret-file", secretFile(t, "short\n")}, exitFailure, "", "want at least 16"},
		{"no secret flag", []string{plateURL}, exitUsage, "", "secret-file"},
		{"no URL", []string{"--secret-file", sf}, exitUsage, "", "accepts 1 arg"},
		{"bad output", []string{plateURL, "--secret-file", sf, "-o", "yaml"}, exitUsage, "", "--output"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runPlate(t, append([]string{"plate", "verify"}, c.args...)...)
			if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errs, c.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, c.code, out, c.stdout, errs, c.stderr)
			}
			if strings.Contains(out+errs, "store secret") || strings.Contains(out+errs, "98765432") {
				t.Fatalf("the secret was printed: %s%s", out, errs)
			}
			if strings.Contains(c.name, "json") {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("not JSON: %q", out)
				}
			}
		})
	}
}
