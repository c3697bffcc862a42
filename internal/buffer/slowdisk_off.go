//go:build !slowdisk

package buffer

// slowDisk is the fsync delay of the slowdisk test build: none here.
func slowDisk() {}
