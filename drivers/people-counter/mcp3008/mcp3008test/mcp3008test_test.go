package mcp3008test

import (
	"bytes"
	"testing"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// chip returns a connected emulator with CHn at n * 0.4 V, VREF 3.3 V, so
// CH2 (0.8 V) reads floor(1024*0.8/3.3) = 248 = 0x0F8.
func chip(t testing.TB) (*Chip, spi.Conn) {
	t.Helper()
	c := New(3.3, func(ch int) float64 { return float64(ch) * 0.4 })
	conn, err := c.Connect(physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	return c, conn
}

func tx(t *testing.T, c spi.Conn, w ...byte) []byte {
	t.Helper()
	r := make([]byte, len(w))
	if err := c.Tx(w, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStandardTransfer(t *testing.T) {
	_, c := chip(t)
	// start bit, SGL=1, D=010 (CH2): null bit then 0x0F8
	if r := tx(t, c, 0x01, 0xA0, 0x00); !bytes.Equal(r, []byte{0x00, 0x00, 0xF8}) {
		t.Fatalf("reply % x, want 00 00 f8", r)
	}
}

func TestLeadingZerosShiftTheFrame(t *testing.T) {
	_, c := chip(t)
	// Start bit one byte later: the same frame, one byte later.
	if r := tx(t, c, 0x00, 0x01, 0xA0, 0x00); !bytes.Equal(r, []byte{0x00, 0x00, 0x00, 0xF8}) {
		t.Fatalf("reply % x, want 00 00 00 f8", r)
	}
	// Start bit as bit 2 of byte 0 (0x04): SGL/D2..D0 in bits 1..0 of byte 0
	// and 7..6 of byte 1: 0x04|0x03 = 0x07 (SGL=1, D2=1), 0x00 (D1=D0=0): CH4.
	// CH4 = 1.6 V -> 496 = 0x1F0 = 01 1111 0000. The null bit is 6 clocks
	// after the start bit: byte 1 bit 4; B9..B0 in byte 1 bits 3..0 and
	// byte 2 bits 7..2: 0b0111 and 0b110000.
	if r := tx(t, c, 0x07, 0x00, 0x00); !bytes.Equal(r, []byte{0x00, 0x07, 0xC0}) {
		t.Fatalf("reply % x, want 00 07 c0", r)
	}
}

func TestLSBFirstThenZeros(t *testing.T) {
	_, c := chip(t)
	// CH1 = 0.4 V -> 124 = 0x07C = 00 0111 1100. After B0, the chip sends
	// B1..B9 (LSB first): 0,1,1,1,1,1,0,0 | 0, then zeros.
	r := tx(t, c, 0x01, 0x90, 0x00, 0x00, 0x00)
	if !bytes.Equal(r, []byte{0x00, 0x00, 0x7C, 0x7C, 0x00}) {
		t.Fatalf("reply % x, want 00 00 7c 7c 00", r)
	}
}

func TestNoStartBitIsHighImpedance(t *testing.T) {
	c, conn := chip(t)
	if r := tx(t, conn, 0x00, 0x00, 0x00); !bytes.Equal(r, []byte{0, 0, 0}) {
		t.Fatalf("reply % x, want zeros (floating low)", r)
	}
	c.FloatHigh = true
	if r := tx(t, conn, 0x00, 0x00, 0x00); !bytes.Equal(r, []byte{0xFF, 0xFF, 0xFF}) {
		t.Fatalf("reply % x, want ones (floating high)", r)
	}
	// With the pull-up the high-impedance bits before the null bit read 1.
	if r := tx(t, conn, 0x01, 0xA0, 0x00); !bytes.Equal(r, []byte{0xFF, 0xF8, 0xF8}) {
		t.Fatalf("reply % x, want ff f8 f8", r)
	}
	if s := c.Stats(); s.Transactions != 3 || s.Conversions != 1 {
		t.Fatalf("stats %+v, want 3 transactions, 1 conversion", s)
	}
}

func TestDifferentialPairs(t *testing.T) {
	c := New(3.3, func(ch int) float64 { return []float64{2, 1, 0, 0, 0, 0, 0.3, 0.1}[ch] })
	conn, _ := c.Connect(physic.MegaHertz, spi.Mode3, 8)
	// CH0-CH1 = 1 V -> 310 = 0x136
	if r := tx(t, conn, 0x01, 0x00, 0x00); !bytes.Equal(r, []byte{0x00, 0x01, 0x36}) {
		t.Fatalf("pair 0 reply % x, want 00 01 36", r)
	}
	// CH1-CH0 negative -> 0
	if r := tx(t, conn, 0x01, 0x10, 0x00); !bytes.Equal(r, []byte{0, 0, 0}) {
		t.Fatalf("pair 1 reply % x, want zeros", r)
	}
	// CH6-CH7 = 0.2 V -> 62 = 0x3E
	if r := tx(t, conn, 0x01, 0x60, 0x00); r[2] != 0x3E {
		t.Fatalf("pair 6 reply % x, want code 0x3e", r)
	}
	if s := c.Stats(); s.Diff != 3 || s.LastChannel != 6 || s.LastCode != 62 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPacketsWithKeepCSAreOneTransaction(t *testing.T) {
	c, conn := chip(t)
	r1, r2 := make([]byte, 2), make([]byte, 1)
	err := conn.TxPackets([]spi.Packet{
		{W: []byte{0x01, 0xA0}, R: r1, KeepCS: true},
		{W: []byte{0x00}, R: r2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r1[1] != 0x00 || r2[0] != 0xF8 {
		t.Fatalf("replies % x % x, want .. 00 | f8", r1, r2)
	}
	if s := c.Stats(); s.Transactions != 1 {
		t.Fatalf("%d transactions, want 1", s.Transactions)
	}
}

func TestShortTransferAndBadLengths(t *testing.T) {
	_, c := chip(t)
	if r := tx(t, c, 0x01); r[0] != 0 {
		t.Fatalf("reply % x", r)
	}
	if err := c.Tx([]byte{1, 2, 3}, make([]byte, 2)); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
	if err := c.Tx(nil, make([]byte, 3)); err != nil { // read only: MOSI low
		t.Fatal(err)
	}
}

func TestConnectRefusesWhatTheChipCannotDo(t *testing.T) {
	for name, f := range map[string]func(c *Chip) error{
		"mode 1":  func(c *Chip) error { _, err := c.Connect(physic.MegaHertz, spi.Mode1, 8); return err },
		"half":    func(c *Chip) error { _, err := c.Connect(physic.MegaHertz, spi.Mode0|spi.HalfDuplex, 8); return err },
		"16 bits": func(c *Chip) error { _, err := c.Connect(physic.MegaHertz, spi.Mode0, 16); return err },
		"5 MHz":   func(c *Chip) error { _, err := c.Connect(5*physic.MegaHertz, spi.Mode0, 8); return err },
		"twice": func(c *Chip) error {
			c.Connect(physic.MegaHertz, spi.Mode0, 8)
			_, err := c.Connect(physic.MegaHertz, spi.Mode0, 8)
			return err
		},
		"closed":   func(c *Chip) error { c.Close(); _, err := c.Connect(physic.MegaHertz, spi.Mode0, 8); return err },
		"lsbfirst": func(c *Chip) error { _, err := c.Connect(physic.MegaHertz, spi.Mode0|spi.LSBFirst, 8); return err },
	} {
		if f(New(3.3, nil)) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCode(t *testing.T) {
	for _, c := range []struct {
		vin, vref float64
		want      int
	}{{0, 3.3, 0}, {-1, 3.3, 0}, {3.3, 3.3, 1023}, {5, 3.3, 1023}, {1.65, 3.3, 512}, {1, 0, 0}} {
		if got := Code(c.vin, c.vref); got != c.want {
			t.Errorf("Code(%g, %g) = %d, want %d", c.vin, c.vref, got, c.want)
		}
	}
}

// FuzzTx: any bytes on MOSI give an answer, never a panic; a frame that
// starts with the standard command gives the standard answer.
func FuzzTx(f *testing.F) {
	f.Add([]byte{0x01, 0x80, 0x00})
	f.Add([]byte{0x00, 0x00, 0x00})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0x01})
	f.Add([]byte{0x01, 0xF0, 0x00, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, w []byte) {
		c := New(3.3, func(ch int) float64 { return float64(ch) * 0.4 })
		conn, err := c.Connect(physic.MegaHertz, spi.Mode0, 8)
		if err != nil {
			t.Fatal(err)
		}
		r := make([]byte, len(w))
		if err := conn.Tx(w, r); err != nil {
			t.Fatal(err)
		}
		if len(w) >= 3 && w[0] == 0x01 && w[1]&0x80 != 0 {
			ch := int(w[1] >> 4 & 7)
			want := Code(float64(ch)*0.4, 3.3)
			if got := int(r[1]&3)<<8 | int(r[2]); got != want || r[1]&0x04 != 0 {
				t.Fatalf("CH%d: reply % x = %d, want %d with a low null bit", ch, r, got, want)
			}
		}
	})
}
