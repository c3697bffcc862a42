//go:build !chaos

package buffer

import (
	"os"
	"path/filepath"
	"testing"
)

// The production build ignores the chaos hook's environment: no image is
// written, and commits never wait on it.
func TestSyncedHookInertWithoutChaosTag(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "image")
	t.Setenv(SyncedImageEnv, img)
	t.Setenv(SyncedDelayEnv, "1h")
	o, _ := open(t, filepath.Join(dir, "outbox.db"), DefaultOptions())
	o.Stage("agg/a", payload)
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(img); !os.IsNotExist(err) {
		t.Fatalf("a build without the chaos tag wrote %s (%v)", img, err)
	}
}
