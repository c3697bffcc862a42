package chaos

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Disk is a small tmpfs mounted over a state directory, to fill up.
type Disk struct {
	Dir    string
	filler string
}

// MountDisk mounts a tmpfs of size bytes on a new directory and unmounts it
// at the test's end. ok is false (and nothing mounted) when the process may
// not mount: not root, or no CAP_SYS_ADMIN in a container.
func MountDisk(t testing.TB, size int64) (d *Disk, ok bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil, false
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0750", size)); err != nil {
		t.Logf("chaos: cannot mount a tmpfs (%v): disk-full faults skipped", err)
		return nil, false
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return &Disk{Dir: dir, filler: filepath.Join(dir, "filler")}, true
}

// Fill writes a filler file until the filesystem has no block left and
// returns its size.
func (d *Disk) Fill() (int64, error) {
	f, err := os.OpenFile(d.filler, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = 0xAA
	}
	// Halving on ENOSPC, down to single blocks: not even a page is left.
	for len(buf) >= 512 {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				return 0, err
			}
			buf = buf[:len(buf)/2]
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Free deletes the filler.
func (d *Disk) Free() error { return os.Remove(d.filler) }
