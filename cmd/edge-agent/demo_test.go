package main

import (
	"strings"
	"testing"
)

// The README's first command: the simulated store publishes entries,
// passers-by and the entry rate through its embedded broker.
func TestDemoShowsSimulatedStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for several seconds")
	}
	out, errOut, code := run(t, "demo", "--duration", "6s", "--window", "1s", "--state-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"embedded MQTT broker on tcp://127.0.0.1:", "status: online", "door in ", "street passers-by ", "entry rate ", "shelves: ", "nfc: ", "status: offline"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, " → in "); n < 3 {
		t.Errorf("only %d store windows in 6 s of 1 s windows:\n%s", n, out)
	}
}
