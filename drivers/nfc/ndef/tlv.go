package ndef

import (
	"errors"
	"fmt"
)

// TLV block tags of the Type 2 Tag data area (T2TOP 1.1, 2.3).
const (
	TLVNull          byte = 0x00 // padding: no length, no value
	TLVLockControl   byte = 0x01
	TLVMemoryControl byte = 0x02
	TLVNDEF          byte = 0x03 // NDEF Message TLV
	TLVProprietary   byte = 0xFD
	TLVTerminator    byte = 0xFE // last TLV: no length, no value
)

// MaxTLVLen is the longest value a TLV length can give: 0xFF then 2 bytes
// up to 0xFFFE (0xFFFF is reserved).
const MaxTLVLen = 0xFFFE

// ErrNoNDEF is returned by UnwrapTLV when the data area holds no NDEF
// Message TLV: an unformatted tag, or a terminator first.
var ErrNoNDEF = errors.New("ndef: no NDEF message TLV in the data area")

// WrapTLV returns msg as a Type 2 tag data area: the NDEF Message TLV (03,
// the length in 1 byte below 0xFF or as FF and 2 bytes big-endian, msg)
// followed by a Terminator TLV (FE). It returns nil for a message longer
// than MaxTLVLen, which no TLV can hold (nor any Type 2 tag).
func WrapTLV(msg []byte) []byte {
	n := len(msg)
	if n > MaxTLVLen {
		return nil
	}
	out := make([]byte, 0, n+5)
	out = append(out, TLVNDEF)
	if n < 0xFF {
		out = append(out, byte(n))
	} else {
		out = append(out, 0xFF, byte(n>>8), byte(n))
	}
	out = append(out, msg...)
	return append(out, TLVTerminator)
}

// UnwrapTLV finds the first NDEF Message TLV in mem, a Type 2 tag's data
// area from its first byte (block 4 of an NTAG), and returns its value, an
// NDEF message, as a slice of mem. NULL TLVs are skipped byte by byte;
// Lock Control, Memory Control, Proprietary and unknown TLVs by their
// length. A Terminator or the end of mem before an NDEF TLV gives
// ErrNoNDEF; a TLV whose length runs past mem is an error. An NDEF TLV of
// length 0 (a blank formatted tag) gives an empty, non-nil message.
func UnwrapTLV(mem []byte) ([]byte, error) {
	for off := 0; off < len(mem); {
		tag := mem[off]
		switch tag {
		case TLVNull:
			off++
			continue
		case TLVTerminator:
			return nil, ErrNoNDEF
		}
		if off+1 >= len(mem) {
			return nil, fmt.Errorf("ndef: TLV %02X at byte %d has no length", tag, off)
		}
		n, hdr := int(mem[off+1]), 2
		if n == 0xFF {
			if off+3 >= len(mem) {
				return nil, fmt.Errorf("ndef: TLV %02X at byte %d: 3-byte length cut short", tag, off)
			}
			n, hdr = int(mem[off+2])<<8|int(mem[off+3]), 4
			if n == 0xFFFF {
				return nil, fmt.Errorf("ndef: TLV %02X at byte %d: length FFFF is reserved", tag, off)
			}
		}
		start := off + hdr
		if n > len(mem)-start {
			return nil, fmt.Errorf("ndef: TLV %02X at byte %d: length %d runs past the end of %d bytes", tag, off, n, len(mem))
		}
		if tag == TLVNDEF {
			return mem[start : start+n : start+n], nil
		}
		off = start + n
	}
	return nil, ErrNoNDEF
}
