//go:build chaos

package buffer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// go test -tags chaos: after Open and after every commit the image is the
// file, byte for byte.
func TestSyncedImageIsTheCommittedFile(t *testing.T) {
	dir := t.TempDir()
	img, path := filepath.Join(dir, "image"), filepath.Join(dir, "outbox.db")
	t.Setenv(SyncedImageEnv, img)
	o, _ := open(t, path, DefaultOptions())
	same := func(when string) {
		t.Helper()
		a, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: the synced image differs from the file", when)
		}
	}
	same("after Open")
	for i := range 5 {
		o.Stage("agg/a", payload)
		if err := o.Commit(); err != nil {
			t.Fatal(err)
		}
		same("after commit " + string(rune('1'+i)))
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
}
