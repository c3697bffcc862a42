package trace

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader: no input panics, every failure is an *Error on a line >= 1,
// and whatever reads cleanly survives Writer -> Reader unchanged.
// Rerun: go test -run '^$' -fuzz FuzzReader -fuzztime 30s ./internal/trace/
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.trace")
	bad, _ := filepath.Glob("testdata/bad/*.trace")
	for _, p := range append(seeds, bad...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(benchTrace(50))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, rds, err := readAll(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("error %v (%T) is not an *Error with a line >= 1", err, err)
			}
			if e.Line > bytes.Count(data, []byte{'\n'})+2 {
				t.Fatalf("error line %d beyond the input's lines: %v", e.Line, err)
			}
			return
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, h)
		if err != nil {
			t.Fatalf("header read cleanly but cannot be written: %v", err)
		}
		for _, r := range rds {
			if err := w.Write(r); err != nil {
				t.Fatalf("reading %+v read cleanly but cannot be written: %v", r, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		h2, rds2, err := readAll(buf.Bytes())
		if err != nil {
			t.Fatalf("written trace does not read back: %v\n%s", err, buf.Bytes())
		}
		if !h2.Start.Equal(h.Start) || len(h2.Sensors) != len(h.Sensors) {
			t.Fatalf("header changed: %+v -> %+v", h, h2)
		}
		for i := range h.Sensors {
			if !specEqual(h.Sensors[i], h2.Sensors[i]) {
				t.Fatalf("sensor %d changed: %+v -> %+v", i, h.Sensors[i], h2.Sensors[i])
			}
		}
		if len(rds2) != len(rds) {
			t.Fatalf("%d readings back, want %d", len(rds2), len(rds))
		}
		for i := range rds {
			a, b := rds[i], rds2[i]
			if a.TMs != b.TMs || a.Sensor != b.Sensor || a.Channel != b.Channel || a.Value != b.Value || !bytes.Equal(a.Token, b.Token) {
				t.Fatalf("reading %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}
