package ndef

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Type Name Format values (NDEF 1.0, 3.2.6).
const (
	TNFEmpty       byte = 0x00
	TNFWellKnown   byte = 0x01 // NFC Forum RTD type, e.g. "U", "T"
	TNFMedia       byte = 0x02 // RFC 2046 media type, e.g. "text/plain"
	TNFAbsoluteURI byte = 0x03
	TNFExternal    byte = 0x04 // NFC Forum external type, e.g. "example.com:t"
	TNFUnknown     byte = 0x05
	TNFUnchanged   byte = 0x06 // middle and last chunks of a chunked record
	tnfReserved    byte = 0x07
)

// Record header flags (NDEF 1.0, 3.2).
const (
	flagMB  = 0x80 // message begin
	flagME  = 0x40 // message end
	flagCF  = 0x20 // chunk flag
	flagSR  = 0x10 // short record: 1-byte payload length
	flagIL  = 0x08 // ID_LENGTH present
	maskTNF = 0x07
)

// ErrEmpty is returned by Decode for a message of no bytes, what a blank
// but formatted tag holds (an NDEF TLV of length 0).
var ErrEmpty = errors.New("ndef: empty message")

// Record is one NDEF record. A chunked record read by Decode is one Record.
type Record struct {
	TNF     byte
	Type    []byte
	ID      []byte
	Payload []byte
}

// String describes r without its payload, which may hold a token.
func (r Record) String() string {
	return fmt.Sprintf("ndef.Record{TNF:%d Type:%q ID:%d bytes Payload:%d bytes}", r.TNF, r.Type, len(r.ID), len(r.Payload))
}

// check validates the TNF and the length rules of NDEF 1.0 3.2.6 for a
// record that is not a chunk continuation.
func (r Record) check() error {
	switch {
	case r.TNF > tnfReserved:
		return fmt.Errorf("TNF %d is not 3 bits", r.TNF)
	case r.TNF == tnfReserved:
		return errors.New("TNF 7 is reserved")
	case r.TNF == TNFUnchanged:
		return errors.New("TNF 6 (unchanged) is only for chunks of a chunked record")
	case r.TNF == TNFEmpty && (len(r.Type) > 0 || len(r.ID) > 0 || len(r.Payload) > 0):
		return errors.New("an empty record (TNF 0) has no type, ID or payload")
	case r.TNF == TNFUnknown && len(r.Type) > 0:
		return errors.New("a record of unknown type (TNF 5) has no type")
	case r.TNF >= TNFWellKnown && r.TNF <= TNFExternal && len(r.Type) == 0:
		return fmt.Errorf("a record of TNF %d needs a type", r.TNF)
	case len(r.Type) > 255:
		return fmt.Errorf("type of %d bytes, at most 255", len(r.Type))
	case len(r.ID) > 255:
		return fmt.Errorf("ID of %d bytes, at most 255", len(r.ID))
	case uint64(len(r.Payload)) > math.MaxUint32:
		return fmt.Errorf("payload of %d bytes, at most 2^32-1", len(r.Payload))
	}
	return nil
}

// Encode returns the NDEF message holding recs in order: MB on the first,
// ME on the last, SR when a payload fits in 255 bytes, IL when a record has
// an ID, never CF.
func Encode(recs []Record) ([]byte, error) {
	if len(recs) == 0 {
		return nil, errors.New("ndef: a message needs at least one record")
	}
	size := 0
	for i, r := range recs {
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("ndef: record %d: %w", i, err)
		}
		size += 7 + len(r.Type) + len(r.ID) + len(r.Payload)
	}
	out := make([]byte, 0, size)
	for i, r := range recs {
		h := r.TNF
		if i == 0 {
			h |= flagMB
		}
		if i == len(recs)-1 {
			h |= flagME
		}
		short := len(r.Payload) <= 255
		if short {
			h |= flagSR
		}
		if len(r.ID) > 0 {
			h |= flagIL
		}
		out = append(out, h, byte(len(r.Type)))
		if short {
			out = append(out, byte(len(r.Payload)))
		} else {
			out = binary.BigEndian.AppendUint32(out, uint32(len(r.Payload)))
		}
		if len(r.ID) > 0 {
			out = append(out, byte(len(r.ID)))
		}
		out = append(out, r.Type...)
		out = append(out, r.ID...)
		out = append(out, r.Payload...)
	}
	return out, nil
}

// Decode parses an NDEF message (see the package comment for what it
// accepts). It never panics, whatever msg holds.
func Decode(msg []byte) ([]Record, error) {
	if len(msg) == 0 {
		return nil, ErrEmpty
	}
	buf := bytes.Clone(msg) // records alias this copy, not the caller's buffer
	var recs []Record
	chunked := false // the last record continues in the next chunk
	for n, off := 0, 0; ; n++ {
		if off >= len(buf) {
			return nil, fmt.Errorf("ndef: message ends at byte %d with no record flagged ME", off)
		}
		h, typ, id, payload, next, err := readRecord(buf, off)
		if err != nil {
			return nil, fmt.Errorf("ndef: record %d at byte %d: %w", n, off, err)
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("ndef: record %d at byte %d: "+format, append([]any{n, off}, args...)...)
		}
		tnf := h & maskTNF
		switch {
		case n == 0 && h&flagMB == 0:
			return nil, fail("first record without MB")
		case n > 0 && h&flagMB != 0:
			return nil, fail("MB set on a record after the first")
		}
		if chunked {
			// NDEF 1.0 3.2.3: middle and terminating chunks are TNF 6 with
			// no type and no ID.
			if tnf != TNFUnchanged {
				return nil, fail("chunk continuation with TNF %d, want 6 (unchanged)", tnf)
			}
			if h&flagIL != 0 {
				return nil, fail("chunk continuation with an ID")
			}
			last := &recs[len(recs)-1]
			last.Payload = append(last.Payload, payload...)
		} else {
			r := Record{TNF: tnf, Type: typ, ID: id, Payload: payload}
			if tnf == TNFEmpty && h&flagCF != 0 {
				return nil, fail("an empty record (TNF 0) cannot be chunked")
			}
			if err := r.check(); err != nil {
				return nil, fail("%v", err)
			}
			recs = append(recs, r)
		}
		chunked = h&flagCF != 0
		off = next
		if h&flagME != 0 {
			if chunked {
				return nil, fail("ME set on a chunk that is not the last")
			}
			if off != len(buf) {
				return nil, fmt.Errorf("ndef: %d bytes after the record flagged ME", len(buf)-off)
			}
			return recs, nil
		}
	}
}

// readRecord reads the record header at off and checks the lengths against
// what is left. The slices it returns are capped, so appending to one
// copies rather than overwriting what follows.
func readRecord(b []byte, off int) (h byte, typ, id, payload []byte, next int, err error) {
	p := off
	need := func(n uint64, what string) error {
		if uint64(len(b)-p) < n {
			return fmt.Errorf("%s needs %d bytes, %d left", what, n, len(b)-p)
		}
		return nil
	}
	if err := need(2, "header"); err != nil {
		return 0, nil, nil, nil, 0, err
	}
	h, typeLen := b[p], uint64(b[p+1])
	p += 2
	if h&maskTNF == tnfReserved {
		return 0, nil, nil, nil, 0, errors.New("TNF 7 is reserved")
	}
	var payLen, idLen uint64
	if h&flagSR != 0 {
		if err := need(1, "payload length"); err != nil {
			return 0, nil, nil, nil, 0, err
		}
		payLen = uint64(b[p])
		p++
	} else {
		if err := need(4, "payload length"); err != nil {
			return 0, nil, nil, nil, 0, err
		}
		payLen = uint64(binary.BigEndian.Uint32(b[p:]))
		p += 4
	}
	if h&flagIL != 0 {
		if err := need(1, "ID length"); err != nil {
			return 0, nil, nil, nil, 0, err
		}
		idLen = uint64(b[p])
		p++
	}
	if h&maskTNF == TNFUnchanged && typeLen != 0 {
		return 0, nil, nil, nil, 0, errors.New("a chunk continuation (TNF 6) has no type")
	}
	if err := need(typeLen+idLen+payLen, "type, ID and payload"); err != nil {
		return 0, nil, nil, nil, 0, err
	}
	t, i := p+int(typeLen), p+int(typeLen)+int(idLen)
	end := i + int(payLen)
	return h, b[p:t:t], b[t:i:i], b[i:end:end], end, nil
}
