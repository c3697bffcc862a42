package chaos

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
)

// ChunkSize is the unit a power cut keeps or loses: a 4 KiB flash page (an
// SD card's write unit; a 16 KiB bbolt page can be torn into four).
const ChunkSize = 4096

// Tear says what a power cut kept of the writes after the synced image.
type Tear struct {
	// Chunks is the number of data chunks written after the synced image;
	// Kept of them reached the disk.
	Chunks, Kept int
	// MetaWritten: the next commit had written its meta page (so its data
	// pages were fdatasynced); MetaKept: the meta page reached the disk
	// too, and the torn image holds that next commit.
	MetaWritten, MetaKept bool
}

func (t Tear) String() string {
	return fmt.Sprintf("kept %d of %d chunks written since the last sync, meta written %v kept %v", t.Kept, t.Chunks, t.MetaWritten, t.MetaKept)
}

// TornImage returns what the disk could hold after a power cut: synced (the
// file as of its last completed commit, all of it fdatasynced) plus a
// random subset of the 4 KiB chunks in which live (the file with every
// write the process made, as the page cache had it) differs.
//
// It models what bbolt guarantees, no more: a commit writes its dirty
// pages (only to pages no committed meta still needs), fdatasyncs, then
// writes one meta page (the older of the two) and fdatasyncs again. So
// while no meta page differs, any subset of the data chunks may have
// persisted; once one does, the cut came during that commit: before its
// data fdatasync (any subset of data chunks, no meta) or after it (all data
// chunks, the meta chunk or not). A file grown by the
// commit is grown (bbolt fsyncs the new size first) and reads zeros where
// no chunk persisted.
func TornImage(synced, live []byte, rng *rand.Rand) ([]byte, Tear, error) {
	var t Tear
	if len(synced) < 2*ChunkSize || len(live) < len(synced) {
		return nil, t, fmt.Errorf("chaos: synced image of %d bytes, live file of %d: not a bbolt file and its successor", len(synced), len(live))
	}
	ps := int(binary.LittleEndian.Uint32(synced[24:])) // meta: page header 16, magic 4, version 4, page size 4
	if ps < ChunkSize || ps&(ps-1) != 0 || len(synced)%ps != 0 {
		return nil, t, fmt.Errorf("chaos: synced image has page size %d", ps)
	}
	out := make([]byte, len(live))
	copy(out, synced)
	var data, meta []int // chunk offsets that differ
	for off := 0; off < len(live); off += ChunkSize {
		end := min(off+ChunkSize, len(live))
		if bytes.Equal(out[off:end], live[off:end]) {
			continue
		}
		if off < 2*ps {
			meta = append(meta, off)
		} else {
			data = append(data, off)
		}
	}
	apply := func(off int) { copy(out[off:min(off+ChunkSize, len(live))], live[off:]) }
	t.Chunks, t.MetaWritten = len(data), len(meta) > 0
	// With the meta page written, the cut may have come at any moment of
	// that commit: while its data pages were written, or after their
	// fdatasync, while the meta page was (the two end the same for bbolt:
	// data chunks no meta points to are garbage).
	dataSynced := t.MetaWritten && rng.IntN(3) != 0
	for _, off := range data {
		if dataSynced || rng.IntN(2) == 0 {
			apply(off)
			t.Kept++
		}
	}
	if dataSynced && rng.IntN(2) == 0 {
		for _, off := range meta {
			apply(off)
		}
		t.MetaKept = true
	}
	return out, t, nil
}

// PowerCut replaces the stopped daemon's outbox file live with a torn copy
// of its synced image (TornImage), and makes that the synced image too:
// whatever survived is on disk. With no synced image yet (the daemon never
// finished opening the file) the file is left as it is.
func PowerCut(live, synced string, rng *rand.Rand) (Tear, error) {
	s, err := os.ReadFile(synced)
	if os.IsNotExist(err) {
		return Tear{}, nil
	} else if err != nil {
		return Tear{}, err
	}
	l, err := os.ReadFile(live)
	if err != nil {
		return Tear{}, err
	}
	img, t, err := TornImage(s, l, rng)
	if err != nil {
		return t, err
	}
	if err := os.WriteFile(live, img, 0o600); err != nil {
		return t, err
	}
	return t, os.WriteFile(synced, img, 0o600)
}
