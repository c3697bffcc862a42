package pn532

import (
	"errors"
	"fmt"
)

// Frame bytes (UM0701-02 §6.2.1.1).
const (
	Preamble   = 0x00
	StartCode1 = 0x00
	StartCode2 = 0xFF
	Postamble  = 0x00

	TFIHostToPN532 = 0xD4 // frame identifier, host controller to PN532
	TFIPN532ToHost = 0xD5 // frame identifier, PN532 to host controller

	// ErrorFrameCode is the single data byte of the error frame that reports
	// an application level error (syntax error): 00 00 FF 01 FF 7F 81 00.
	ErrorFrameCode = 0x7F

	// MaxNormalLen is the largest LEN of a normal information frame
	// (TFI + 254 data bytes); longer payloads use an extended frame.
	MaxNormalLen = 0xFF
	// MaxExtendedLen is the largest LEN (TFI + data) the PN532 handles in an
	// extended information frame: its buffer holds 264 data bytes.
	MaxExtendedLen = 265

	// normalOverhead is preamble, start code, LEN, LCS, DCS and postamble
	// around TFI+data of a normal frame; extendedOverhead adds FF FF.
	normalOverhead   = 7
	extendedOverhead = 10
)

var (
	ackFrame  = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	nackFrame = []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}
)

// AckFrame returns the ACK frame 00 00 FF 00 FF 00.
func AckFrame() []byte { return append([]byte(nil), ackFrame...) }

// NackFrame returns the NACK frame 00 00 FF FF 00 00.
func NackFrame() []byte { return append([]byte(nil), nackFrame...) }

// FrameKind says which of the frame types of §6.2.1 a frame is.
type FrameKind uint8

// Frame kinds.
const (
	FrameInfo  FrameKind = iota + 1 // normal or extended information frame
	FrameAck                        // ACK frame
	FrameNack                       // NACK frame
	FrameError                      // error frame (application level error)
)

func (k FrameKind) String() string {
	switch k {
	case FrameInfo:
		return "information frame"
	case FrameAck:
		return "ACK frame"
	case FrameNack:
		return "NACK frame"
	case FrameError:
		return "error frame"
	}
	return fmt.Sprintf("FrameKind(%d)", uint8(k))
}

// Frame is one decoded frame.
type Frame struct {
	Kind     FrameKind
	Extended bool   // an extended information frame (00 00 FF FF FF LENM LENL LCS ...)
	TFI      byte   // FrameInfo: 0xD4 or 0xD5
	Data     []byte // FrameInfo: PD0..PDn (PD0 is the command code); aliases the input
}

// Errors of the frame codec. ParseFrame wraps them with the offset and
// values it saw; test with errors.Is.
var (
	ErrFrameTruncated  = errors.New("pn532: frame truncated")
	ErrNoStartCode     = errors.New("pn532: no frame start code 00 FF")
	ErrLengthChecksum  = errors.New("pn532: bad length checksum (LCS)")
	ErrDataChecksum    = errors.New("pn532: bad data checksum (DCS)")
	ErrBadPostamble    = errors.New("pn532: bad postamble")
	ErrFrameLength     = errors.New("pn532: bad frame length")
	ErrPayloadTooLarge = errors.New("pn532: payload too large for an extended frame")
)

// TruncatedError reports a frame cut short; Need is the number of bytes the
// whole frame takes from the start of the buffer when the header was intact
// (0 when even the header is missing). It matches ErrFrameTruncated.
type TruncatedError struct {
	Have, Need int
}

func (e *TruncatedError) Error() string {
	if e.Need == 0 {
		return fmt.Sprintf("pn532: frame truncated: %d bytes, header incomplete", e.Have)
	}
	return fmt.Sprintf("pn532: frame truncated: %d bytes, frame needs %d", e.Have, e.Need)
}

// Is makes errors.Is(err, ErrFrameTruncated) true.
func (e *TruncatedError) Is(target error) bool { return target == ErrFrameTruncated }

// EncodeFrame builds an information frame carrying tfi and data (PD0..PDn):
// a normal frame when LEN = 1+len(data) fits in a byte, an extended frame
// otherwise (UM0701-02 §6.2.1.1 and §6.2.1.2).
func EncodeFrame(tfi byte, data []byte) ([]byte, error) {
	return AppendFrame(nil, tfi, data)
}

// AppendFrame is EncodeFrame appending to dst.
func AppendFrame(dst []byte, tfi byte, data []byte) ([]byte, error) {
	n := 1 + len(data)
	if n > MaxExtendedLen {
		return dst, fmt.Errorf("%w: %d bytes, at most %d", ErrPayloadTooLarge, len(data), MaxExtendedLen-1)
	}
	dst = append(dst, Preamble, StartCode1, StartCode2)
	if n <= MaxNormalLen {
		dst = append(dst, byte(n), byte(-n))
	} else {
		m, l := byte(n>>8), byte(n)
		dst = append(dst, 0xFF, 0xFF, m, l, -(m + l))
	}
	sum := tfi
	dst = append(dst, tfi)
	for _, b := range data {
		sum += b
	}
	dst = append(dst, data...)
	return append(dst, -sum, Postamble), nil
}

// ParseFrame decodes the first frame in b. Leading 0x00 bytes (preambles)
// are skipped; bytes after the postamble are not looked at. It returns the
// frame and the number of bytes of b it used. Any input gives either a
// frame or an error, never a panic. Data aliases b.
func ParseFrame(b []byte) (Frame, int, error) {
	i := 0
	for i < len(b) && b[i] == 0x00 {
		i++
	}
	if i == len(b) {
		return Frame{}, 0, &TruncatedError{Have: len(b)}
	}
	// b[i] is the first non-zero byte; the start code is 00 FF.
	if b[i] != StartCode2 || i == 0 {
		return Frame{}, 0, fmt.Errorf("%w: byte %#02x at offset %d", ErrNoStartCode, b[i], i)
	}
	i++ // past FF
	if len(b) < i+2 {
		return Frame{}, 0, &TruncatedError{Have: len(b)}
	}
	lenB, lcs := b[i], b[i+1]
	switch {
	case lenB == 0x00 && lcs == 0xFF:
		if len(b) < i+3 {
			return Frame{}, 0, &TruncatedError{Have: len(b), Need: i + 3}
		}
		if b[i+2] != Postamble {
			return Frame{}, 0, fmt.Errorf("%w: ACK frame ends with %#02x", ErrBadPostamble, b[i+2])
		}
		return Frame{Kind: FrameAck}, i + 3, nil
	case lenB == 0xFF && lcs == 0x00:
		if len(b) < i+3 {
			return Frame{}, 0, &TruncatedError{Have: len(b), Need: i + 3}
		}
		if b[i+2] != Postamble {
			return Frame{}, 0, fmt.Errorf("%w: NACK frame ends with %#02x", ErrBadPostamble, b[i+2])
		}
		return Frame{Kind: FrameNack}, i + 3, nil
	}
	f := Frame{Kind: FrameInfo}
	var n int
	if lenB == 0xFF && lcs == 0xFF {
		// Extended frame: FF FF LENM LENL LCS.
		if len(b) < i+5 {
			return Frame{}, 0, &TruncatedError{Have: len(b)}
		}
		m, l, c := b[i+2], b[i+3], b[i+4]
		if m+l+c != 0 {
			return Frame{}, 0, fmt.Errorf("%w: extended LENM %#02x LENL %#02x LCS %#02x", ErrLengthChecksum, m, l, c)
		}
		n = int(m)<<8 | int(l)
		f.Extended = true
		i += 5
	} else {
		if lenB+lcs != 0 {
			return Frame{}, 0, fmt.Errorf("%w: LEN %#02x LCS %#02x", ErrLengthChecksum, lenB, lcs)
		}
		n = int(lenB)
		i += 2
	}
	if n == 0 || n > MaxExtendedLen {
		return Frame{}, 0, fmt.Errorf("%w: LEN %d (want 1..%d)", ErrFrameLength, n, MaxExtendedLen)
	}
	need := i + n + 2
	if len(b) < need {
		return Frame{}, 0, &TruncatedError{Have: len(b), Need: need}
	}
	body := b[i : i+n]
	var sum byte
	for _, x := range body {
		sum += x
	}
	if dcs := b[i+n]; sum+dcs != 0 {
		return Frame{}, 0, fmt.Errorf("%w: DCS %#02x, data sums to %#02x", ErrDataChecksum, dcs, sum)
	}
	if p := b[i+n+1]; p != Postamble {
		return Frame{}, 0, fmt.Errorf("%w: %#02x after DCS", ErrBadPostamble, p)
	}
	if n == 1 && body[0] == ErrorFrameCode && !f.Extended {
		return Frame{Kind: FrameError}, need, nil
	}
	f.TFI = body[0]
	f.Data = body[1:]
	return f, need, nil
}
