package chaos

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Fill leaves not one block; Free gives them back.
func TestDiskFillAndFree(t *testing.T) {
	d, ok := MountDisk(t, 1<<20)
	if !ok {
		t.Skip("needs root and a tmpfs mount")
	}
	n, err := d.Fill()
	if err != nil {
		t.Fatal(err)
	}
	if n < 900<<10 {
		t.Fatalf("the filler took %d bytes of a 1 MiB disk", n)
	}
	p := filepath.Join(d.Dir, "after")
	if err := os.WriteFile(p, make([]byte, 4096), 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing a page on the full disk: %v, want ENOSPC", err)
	}
	if err := d.Free(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, 4096), 0o600); err != nil {
		t.Fatalf("after Free: %v", err)
	}
}
