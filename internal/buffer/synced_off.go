//go:build !chaos

package buffer

// syncedHook is nil outside chaos builds: the production daemon records no
// synced image, whatever its environment says.
func syncedHook(string) func() error { return nil }
