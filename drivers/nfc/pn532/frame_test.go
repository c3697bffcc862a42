package pn532

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncodeFrameNormal(t *testing.T) {
	// UM0701-02 §7.2.2 example: GetFirmwareVersion.
	got, err := EncodeFrame(TFIHostToPN532, []byte{CmdGetFirmwareVersion})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func TestExtendedFrame(t *testing.T) {
	data := make([]byte, 259) // LEN = TFI + 259 = 260 = 0x0104
	for i := range data {
		data[i] = byte(i)
	}
	f, err := EncodeFrame(TFIPN532ToHost, data)
	if err != nil {
		t.Fatal(err)
	}
	// 00 00 FF FF FF LENM LENL LCS: 01 04, LCS = -(01+04) = FB.
	if want := []byte{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x04, 0xFB, 0xD5}; !bytes.Equal(f[:9], want) {
		t.Fatalf("header % x, want % x", f[:9], want)
	}
	if len(f) != 10+260 {
		t.Fatalf("len %d, want 270", len(f))
	}
	var sum byte
	for _, b := range f[8 : len(f)-1] { // TFI, data, DCS
		sum += b
	}
	if sum != 0 || f[len(f)-1] != 0 {
		t.Fatalf("DCS/postamble wrong: sum %#x, last %#x", sum, f[len(f)-1])
	}
	g, n, err := ParseFrame(append(f, 0xAA, 0xBB)) // trailing bytes are not read
	if err != nil {
		t.Fatal(err)
	}
	if n != len(f) || !g.Extended || g.Kind != FrameInfo || g.TFI != TFIPN532ToHost || !bytes.Equal(g.Data, data) {
		t.Fatalf("got n=%d %+v", n, g)
	}
	// Bad extended LCS.
	f[7]++
	if _, _, err := ParseFrame(f); !errors.Is(err, ErrLengthChecksum) {
		t.Fatalf("got %v, want ErrLengthChecksum", err)
	}
	// Too large for the chip.
	if _, err := EncodeFrame(TFIHostToPN532, make([]byte, MaxExtendedLen)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("got %v, want ErrPayloadTooLarge", err)
	}
	// 254 data bytes still fit a normal frame (LEN FF, LCS 01).
	f, _ = EncodeFrame(TFIHostToPN532, make([]byte, 254))
	if f[3] != 0xFF || f[4] != 0x01 {
		t.Fatalf("LEN/LCS % x, want ff 01", f[3:5])
	}
	if g, _, err := ParseFrame(f); err != nil || g.Extended || len(g.Data) != 254 {
		t.Fatalf("normal LEN FF frame: %+v %v", g, err)
	}
}

func TestParseFrame(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		kind FrameKind
		data []byte
		n    int
		err  error
	}{
		{"ack", []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}, FrameAck, nil, 6, nil},
		{"nack", []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}, FrameNack, nil, 6, nil},
		{"error frame", []byte{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00}, FrameError, nil, 8, nil},
		{"firmware", []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}, FrameInfo, []byte{0x03, 0x32, 0x01, 0x06, 0x07}, 13, nil},
		{"short preamble", []byte{0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00}, FrameInfo, []byte{0x15}, 8, nil},
		{"bad LCS", []byte{0x00, 0x00, 0xFF, 0x06, 0xFB, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}, 0, nil, 0, ErrLengthChecksum},
		{"bad DCS", []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE7, 0x00}, 0, nil, 0, ErrDataChecksum},
		{"bad postamble", []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x01}, 0, nil, 0, ErrBadPostamble},
		{"truncated", []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03}, 0, nil, 0, ErrFrameTruncated},
		{"all zero", []byte{0, 0, 0, 0}, 0, nil, 0, ErrFrameTruncated},
		{"empty", nil, 0, nil, 0, ErrFrameTruncated},
		{"no start code", []byte{0x00, 0x00, 0xFE, 0x02}, 0, nil, 0, ErrNoStartCode},
		{"FF first", []byte{0xFF, 0x02, 0xFE}, 0, nil, 0, ErrNoStartCode},
		{"LEN 0 not ACK", []byte{0x00, 0x00, 0xFF, 0x00, 0x00, 0x00}, 0, nil, 0, ErrFrameLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseFrame(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Kind != tc.kind || n != tc.n || !bytes.Equal(f.Data, tc.data) {
				t.Fatalf("got %s n=%d data % x", f.Kind, n, f.Data)
			}
		})
	}
}

func TestTruncatedNeed(t *testing.T) {
	full := []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}
	_, _, err := ParseFrame(full[:9])
	var te *TruncatedError
	if !errors.As(err, &te) || te.Need != len(full) || te.Have != 9 {
		t.Fatalf("got %v (%+v), want Need %d", err, te, len(full))
	}
}

func TestReverse(t *testing.T) {
	for in, want := range map[byte]byte{0x01: 0x80, 0x02: 0x40, 0x03: 0xC0, 0xD4: 0x2B, 0xD5: 0xAB, 0xE8: 0x17, 0x00: 0x00, 0xFF: 0xFF} {
		if got := reverse(in); got != want {
			t.Errorf("reverse(%#02x) = %#02x, want %#02x", in, got, want)
		}
	}
	for i := range 256 {
		if reverse(reverse(byte(i))) != byte(i) {
			t.Fatalf("reverse is not an involution at %#02x", i)
		}
	}
}

// FuzzParseFrame: any bytes give a frame or an error, never a panic, and a
// decoded frame re-encodes to the bytes it came from.
func FuzzParseFrame(f *testing.F) {
	seeds := [][]byte{
		{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00},
		{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00},
		{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00},
		{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00},
		{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0xFF},
		{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00},
		{0x00, 0xFF},
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := ParseFrame(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
			return
		}
		if n < 5 || n > len(b) { // shortest: 00 FF 00 FF 00, an ACK with a 1-byte start
			t.Fatalf("n=%d for %d bytes", n, len(b))
		}
		if fr.Kind == FrameInfo {
			enc, err := EncodeFrame(fr.TFI, fr.Data)
			if err != nil {
				t.Fatal(err)
			}
			// The parsed part, minus extra preamble zeros, is canonical
			// unless a short length was sent in an extended frame.
			if tail := b[n-len(enc)+1 : n]; !fr.Extended && !bytes.Equal(enc[1:], tail) {
				t.Fatalf("re-encoded % x, input % x", enc, b[:n])
			}
		}
	})
}

// FuzzParseTarget: InListPassiveTarget answers from the bus never panic.
func FuzzParseTarget(f *testing.F) {
	f.Add(byte(0), []byte{0x01, 0x01, 0x00, 0x04, 0x08, 0x04, 0xDE, 0xAD, 0xBE, 0xEF})
	f.Add(byte(0), []byte{0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0x08, 0x01, 0x02, 0x03, 0x05, 0x78, 0x80, 0x70, 0x02})
	f.Add(byte(1), append([]byte{0x01, 0x01, 0x14, 0x01}, make([]byte, 18)...))
	f.Add(byte(0), []byte{0x00})
	f.Fuzz(func(t *testing.T, m byte, r []byte) {
		tg, err := parseTarget(Modulation(m%3), r)
		if err == nil && len(tg.ID()) == 0 {
			t.Fatalf("target without identifier: %+v", tg)
		}
	})
}
