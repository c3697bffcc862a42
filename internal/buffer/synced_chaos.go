//go:build chaos

package buffer

import (
	"io"
	"os"
	"path/filepath"
	"time"
)

// syncedHook returns the recorder for path's synced image, or nil when the
// environment does not ask for one.
func syncedHook(path string) func() error {
	dst := os.Getenv(SyncedImageEnv)
	if dst == "" {
		return nil
	}
	delay, _ := time.ParseDuration(os.Getenv(SyncedDelayEnv))
	pending := dst + ".pending"
	return func() error {
		if delay > 0 {
			if err := os.WriteFile(pending, nil, 0o600); err != nil {
				return err
			}
			time.Sleep(delay)
			defer os.Remove(pending)
		}
		return copyAtomic(path, dst)
	}
}

// copyAtomic copies src to dst through a temporary file and a rename, so a
// SIGKILL in the middle leaves the previous image in place.
func copyAtomic(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
