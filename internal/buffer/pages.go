package buffer

import (
	"encoding/binary"
	"os"
)

// bbolt's page format (go.etcd.io/bbolt/internal/common), little-endian:
// a 16-byte header (id u64, flags u16, count u16, overflow u32), then count
// elements of 16 bytes: branch {pos u32, ksize u32, pgid u64}, leaf {flags
// u32, pos u32, ksize u32, vsize u32}; pos counts from the element itself.
// A leaf value flagged as a bucket starts with {root u64, sequence u64}; a
// root of 0 means the bucket's page follows inline.
const (
	pageHeaderSize   = 16
	pageElemSize     = 16
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)
	maxTreeDepth     = 64
)

// pageWalker checks the page graph with plain file reads, before bbolt maps
// it: every page in bounds and referenced once (no cycle, which would send
// bbolt's cursor or tx.Check into an endless descent), headers consistent,
// elements inside their page, free pages not in use.
type pageWalker struct {
	f    *os.File
	ps   uint64
	hwm  uint64
	seen []bool
	buf  []byte
}

func walkPages(f *os.File, pageSize, hwm, root, freelist uint64) error {
	if pageSize < 1024 || pageSize > 1<<16 {
		return corrupt("page size %d", pageSize)
	}
	w := &pageWalker{f: f, ps: pageSize, hwm: hwm, seen: make([]bool, hwm)}
	if hwm < 2 {
		return corrupt("high water mark %d", hwm)
	}
	w.seen[0], w.seen[1] = true, true // meta pages
	if err := w.tree(root, 0, true); err != nil {
		return err
	}
	if freelist != noFreelist {
		return w.freelist(freelist)
	}
	return nil
}

// read returns page id's header and, if full, the whole page with its
// overflow, after checking the header against id and the bounds.
func (w *pageWalker) read(id uint64, full bool) (flags, count uint16, data []byte, err error) {
	if id < 2 || id >= w.hwm {
		return 0, 0, nil, corrupt("page %d out of bounds (high water mark %d)", id, w.hwm)
	}
	var h [pageHeaderSize]byte
	if _, err := w.f.ReadAt(h[:], int64(id*w.ps)); err != nil {
		return 0, 0, nil, err
	}
	if got := binary.LittleEndian.Uint64(h[0:]); got != id {
		return 0, 0, nil, corrupt("page %d says it is page %d", id, got)
	}
	flags = binary.LittleEndian.Uint16(h[8:])
	count = binary.LittleEndian.Uint16(h[10:])
	overflow := uint64(binary.LittleEndian.Uint32(h[12:]))
	if overflow >= w.hwm-id {
		return 0, 0, nil, corrupt("page %d overflows past the high water mark", id)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return 0, 0, nil, corrupt("page %d reached twice", i)
		}
		w.seen[i] = true
	}
	size := (overflow + 1) * w.ps
	// A freelist page's elements are 8-byte page ids, checked by freelist.
	if flags != freelistPageFlag && pageHeaderSize+uint64(count)*pageElemSize > size {
		return 0, 0, nil, corrupt("page %d: %d elements do not fit", id, count)
	}
	if full {
		if uint64(cap(w.buf)) < size {
			w.buf = make([]byte, size)
		}
		data = w.buf[:size]
		if _, err := w.f.ReadAt(data, int64(id*w.ps)); err != nil {
			return 0, 0, nil, err
		}
	}
	return flags, count, data, nil
}

// tree walks the B+tree under root. Leaves are read in full only where
// they may hold buckets (the root bucket's); elsewhere the header suffices.
func (w *pageWalker) tree(root uint64, depth int, bucketsInLeaves bool) error {
	if depth > maxTreeDepth {
		return corrupt("page tree deeper than %d", maxTreeDepth)
	}
	flags, count, data, err := w.read(root, true)
	if err != nil {
		return err
	}
	switch flags {
	case branchPageFlag:
		if count == 0 {
			return corrupt("branch page %d is empty", root)
		}
		children := make([]uint64, count)
		for i := range children {
			e := data[pageHeaderSize+i*pageElemSize:]
			if err := elemInPage(data, pageHeaderSize+i*pageElemSize, e[0:], e[4:], nil); err != nil {
				return corrupt("branch page %d element %d: %v", root, i, err)
			}
			children[i] = binary.LittleEndian.Uint64(e[8:])
		}
		for _, c := range children { // data is reused by the descent
			if err := w.tree(c, depth+1, bucketsInLeaves); err != nil {
				return err
			}
		}
		return nil
	case leafPageFlag:
		if !bucketsInLeaves {
			return nil
		}
		return w.leafBuckets(root, data, count, depth)
	}
	return corrupt("page %d has flags %#x, want a branch or leaf page", root, flags)
}

// leafBuckets checks the elements of a root-bucket leaf and walks the
// buckets they hold.
func (w *pageWalker) leafBuckets(id uint64, data []byte, count uint16, depth int) error {
	var roots []uint64
	for i := range int(count) {
		off := pageHeaderSize + i*pageElemSize
		e := data[off:]
		if err := elemInPage(data, off, e[4:], e[8:], e[12:]); err != nil {
			return corrupt("leaf page %d element %d: %v", id, i, err)
		}
		if binary.LittleEndian.Uint32(e[0:])&bucketLeafFlag == 0 {
			continue
		}
		pos := off + int(binary.LittleEndian.Uint32(e[4:])) + int(binary.LittleEndian.Uint32(e[8:]))
		v := data[pos : pos+int(binary.LittleEndian.Uint32(e[12:]))]
		if len(v) < 16 {
			return corrupt("leaf page %d element %d: bucket header of %d bytes", id, i, len(v))
		}
		if r := binary.LittleEndian.Uint64(v); r != 0 {
			roots = append(roots, r)
		} else if err := inlineBucket(v[16:]); err != nil {
			return corrupt("leaf page %d element %d: inline bucket: %v", id, i, err)
		}
	}
	for _, r := range roots {
		if err := w.tree(r, depth+1, false); err != nil {
			return err
		}
	}
	return nil
}

// inlineBucket checks a bucket stored inside its parent's value: one leaf
// page header and its elements.
func inlineBucket(p []byte) error {
	if len(p) < pageHeaderSize {
		return corrupt("%d bytes", len(p))
	}
	if f := binary.LittleEndian.Uint16(p[8:]); f != leafPageFlag {
		return corrupt("flags %#x", f)
	}
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if pageHeaderSize+count*pageElemSize > len(p) {
		return corrupt("%d elements do not fit", count)
	}
	for i := range count {
		off := pageHeaderSize + i*pageElemSize
		e := p[off:]
		if binary.LittleEndian.Uint32(e[0:])&bucketLeafFlag != 0 {
			return corrupt("nested bucket") // the outbox never nests buckets
		}
		if err := elemInPage(p, off, e[4:], e[8:], e[12:]); err != nil {
			return err
		}
	}
	return nil
}

// elemInPage checks that the key (and value) of the element at off lie
// inside page.
func elemInPage(page []byte, off int, pos, ksize, vsize []byte) error {
	end := uint64(off) + uint64(binary.LittleEndian.Uint32(pos)) + uint64(binary.LittleEndian.Uint32(ksize))
	if vsize != nil {
		end += uint64(binary.LittleEndian.Uint32(vsize))
	}
	if end > uint64(len(page)) {
		return corrupt("key/value end at %d, past the page's %d bytes", end, len(page))
	}
	return nil
}

// freelist checks the freelist page: ids in bounds, none in use.
func (w *pageWalker) freelist(id uint64) error {
	flags, count, data, err := w.read(id, true)
	if err != nil {
		return err
	}
	if flags != freelistPageFlag {
		return corrupt("freelist page %d has flags %#x", id, flags)
	}
	ids := data[pageHeaderSize:]
	n := uint64(count)
	if count == 0xFFFF { // the real count is the first element
		n = binary.LittleEndian.Uint64(ids)
		ids = ids[8:]
	}
	if n > uint64(len(ids))/8 {
		return corrupt("freelist page %d: %d ids do not fit", id, n)
	}
	for i := range n {
		free := binary.LittleEndian.Uint64(ids[i*8:])
		if free < 2 || free >= w.hwm {
			return corrupt("freelist page %d: free page %d out of bounds", id, free)
		}
		if w.seen[free] {
			return corrupt("page %d is both free and in use", free)
		}
	}
	return nil
}
