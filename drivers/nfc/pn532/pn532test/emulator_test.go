package pn532test

import (
	"bytes"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func TestSPIConnect(t *testing.T) {
	e := New(nil)
	if _, err := e.SPI().Connect(physic.MegaHertz, spi.Mode1, 8); err == nil {
		t.Error("mode 1 accepted")
	}
	if _, err := e.SPI().Connect(physic.MegaHertz, spi.Mode0, 16); err == nil {
		t.Error("16 bits accepted")
	}
	if _, err := e.SPI().Connect(10*physic.MegaHertz, spi.Mode0, 8); err == nil {
		t.Error("10 MHz accepted")
	}
}

// With spi.LSBFirst the host's controller orders the bits, so the bytes
// seen by Tx are the PN532's own: GetFirmwareVersion in plain bytes.
func TestSPILSBFirstHost(t *testing.T) {
	clk := NewClock()
	e := New(&Options{Now: clk.Now, Sleep: clk.Sleep})
	c, err := e.SPI().Connect(physic.MegaHertz, spi.Mode0|spi.LSBFirst, 8)
	if err != nil {
		t.Fatal(err)
	}
	st := make([]byte, 2)
	tx := func(w, r []byte) {
		t.Helper()
		if err := c.Tx(w, r); err != nil {
			t.Fatal(err)
		}
	}
	tx([]byte{0x02, 0x00}, st) // wakes the chip
	clk.Sleep(2 * time.Millisecond)
	tx([]byte{0x01, 0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}, nil)
	clk.Sleep(5 * time.Millisecond)
	tx([]byte{0x02, 0x00}, st)
	if st[1] != 0x01 {
		t.Fatalf("status % x, want ready", st)
	}
	r := make([]byte, 7)
	tx(make([]byte, 7), r) // no DR prefix: nothing is read
	if !bytes.Equal(r, make([]byte, 7)) {
		t.Fatalf("read without DR: % x", r)
	}
	w := make([]byte, 7)
	w[0] = 0x03
	tx(w, r)
	if !bytes.Equal(r[1:], []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}) {
		t.Fatalf("ACK % x", r)
	}
	r = make([]byte, 14)
	w = make([]byte, 14)
	w[0] = 0x03
	tx(w, r)
	if want := []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}; !bytes.Equal(r[1:], want) {
		t.Fatalf("response % x, want % x", r[1:], want)
	}
}

func TestPresentValidation(t *testing.T) {
	e := New(nil)
	if err := e.PresentCard([]byte{1, 2, 3}); err == nil {
		t.Error("3-byte UID accepted")
	}
	if err := e.PresentPhoneHCE(nil, []byte{1}); err == nil {
		t.Error("empty AID accepted")
	}
	if err := e.PresentPhoneHCE([]byte{1}, make([]byte, 300)); err == nil {
		t.Error("oversized token accepted")
	}
	if err := e.PresentFeliCa([]byte{1}, make([]byte, 8), 0); err == nil {
		t.Error("short IDm accepted")
	}
}

func TestEncodeExtended(t *testing.T) {
	body := append([]byte{0xD5, 0x41, 0x00}, make([]byte, 300)...)
	f := encode(body)
	kind, tfi, data := parseHost(f)
	if kind != kInfo || tfi != 0xD5 || len(data) != len(body)-1 {
		t.Fatalf("extended round trip: kind %d tfi %#x len %d", kind, tfi, len(data))
	}
	if f[3] != 0xFF || f[4] != 0xFF {
		t.Fatalf("not extended: % x", f[:8])
	}
}

// FuzzHostFrames: whatever the host writes, the emulator answers without
// panicking, and only well-formed command frames are acknowledged.
func FuzzHostFrames(f *testing.F) {
	f.Add([]byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00})
	f.Add([]byte{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00})
	f.Add([]byte{0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x14, 0x00, 0x03, 0x00})
	f.Add([]byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, w []byte) {
		clk := NewClock()
		e := New(&Options{Now: clk.Now, Sleep: clk.Sleep})
		bus := e.I2C()
		r := make([]byte, 40)
		_ = bus.Tx(0x24, nil, r[:1])
		clk.Sleep(time.Second)
		_ = bus.Tx(0x24, w, nil)
		clk.Sleep(time.Second)
		_ = bus.Tx(0x24, nil, r)
		if kind, tfi, data := parseHost(w); r[0] == 0x01 && (kind != kInfo || tfi != 0xD4 || len(data) == 0) {
			t.Fatalf("acknowledged a bad frame % x", w)
		}
		_ = bus.Tx(0x24, nil, r)
	})
}
