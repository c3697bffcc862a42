package ntag

import (
	"errors"
	"fmt"
)

// TLV block types of the NFC Forum Type 2 Tag data area.
const (
	tlvNull       = 0x00 // padding, no length
	tlvLock       = 0x01 // lock control
	tlvMemory     = 0x02 // memory control
	tlvNDEF       = 0x03 // NDEF message
	tlvTerminator = 0xFE // end of the data area contents, no length
)

// ErrNoNDEF means the data area holds no NDEF TLV (an unwritten tag).
var ErrNoNDEF = errors.New("ntag: no NDEF message TLV in user memory")

// ErrTooLong means a message does not fit the tag's NDEF data area.
var ErrTooLong = errors.New("ntag: NDEF message too long for the tag")

// wrapTLV returns msg as an NDEF TLV followed by a terminator TLV: 03h, the
// length (1 byte, or FFh and 2 bytes big endian from 255 on), msg, FEh.
func wrapTLV(msg []byte) []byte {
	n := len(msg)
	out := make([]byte, 0, n+5)
	out = append(out, tlvNDEF)
	if n < 0xFF {
		out = append(out, byte(n))
	} else {
		out = append(out, 0xFF, byte(n>>8), byte(n))
	}
	out = append(out, msg...)
	return append(out, tlvTerminator)
}

// tlvSize is len(wrapTLV(msg)) for a message of n bytes.
func tlvSize(n int) int {
	if n < 0xFF {
		return n + 3
	}
	return n + 5
}

// byteSource is the data area read lazily: a few blocks suffice for a short
// message on a 2k tag.
type byteSource interface {
	// slice returns the n bytes at off; off+n never exceeds the size given
	// to findNDEF.
	slice(off, n int) ([]byte, error)
}

// findNDEF walks the TLVs of a data area of size bytes and returns a copy of
// the first NDEF message. Lock and memory control TLVs and unknown TLVs are
// skipped by their length; a TLV running past the data area is an error.
func findNDEF(src byteSource, size int) ([]byte, error) {
	off := 0
	for off < size {
		b, err := src.slice(off, 1)
		if err != nil {
			return nil, err
		}
		t := b[0]
		switch t {
		case tlvNull:
			off++
			continue
		case tlvTerminator:
			return nil, ErrNoNDEF
		}
		if off+2 > size {
			return nil, fmt.Errorf("ntag: TLV %02Xh at byte %d of user memory has no length byte", t, off)
		}
		l, err := src.slice(off+1, 1)
		if err != nil {
			return nil, err
		}
		hdr, n := 2, int(l[0])
		if n == 0xFF {
			if off+4 > size {
				return nil, fmt.Errorf("ntag: TLV %02Xh at byte %d of user memory: 3-byte length runs past the end (%d bytes)", t, off, size)
			}
			l3, err := src.slice(off+2, 2)
			if err != nil {
				return nil, err
			}
			hdr, n = 4, int(l3[0])<<8|int(l3[1])
		}
		if off+hdr+n > size {
			return nil, fmt.Errorf("ntag: TLV %02Xh at byte %d of user memory: length %d runs past the end (%d bytes)", t, off, n, size)
		}
		if t == tlvNDEF {
			v, err := src.slice(off+hdr, n)
			if err != nil {
				return nil, err
			}
			return append([]byte{}, v...), nil
		}
		off += hdr + n
	}
	return nil, ErrNoNDEF
}
