package pn532

import (
	"errors"
	"testing"
	"time"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/spi/spitest"
)

// fakeTime is a clock for playback tests: sleeping advances it.
type fakeTime struct {
	t      time.Time
	sleeps []time.Duration
}

func (f *fakeTime) now() time.Time { return f.t }
func (f *fakeTime) sleep(d time.Duration) {
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
}

func playbackOpts(ft *fakeTime) *Opts {
	return &Opts{Sleep: ft.sleep, Now: ft.now}
}

// i2cInit is the I²C traffic of NewI2C with default options, the chip
// answering on the first poll except once.
func i2cInit() []i2ctest.IO {
	return []i2ctest.IO{
		// Wake-up: a 1-byte read addresses the chip, which wakes on the
		// address match; the byte is ignored. Then WakeDelay.
		{Addr: 0x24, R: []byte{0x00}},

		// SAMConfiguration: normal mode (01), timeout 0x14 (x50 ms), no IRQ.
		// D4 14 01 14 00: LEN 05, LCS FB, DCS 03.
		{Addr: 0x24, W: []byte{0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01, 0x14, 0x00, 0x03, 0x00}},
		// Status poll: not ready yet (the driver then sleeps PollInterval).
		{Addr: 0x24, R: []byte{0x00}},
		// Status poll: ready.
		{Addr: 0x24, R: []byte{0x01}},
		// Status byte + ACK frame.
		{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		// Status poll: response ready.
		{Addr: 0x24, R: []byte{0x01}},
		// Status byte + response D5 15 (LEN 02, LCS FE, DCS 16).
		{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x15, 0x16, 0x00}},

		// GetFirmwareVersion (the chip check), see TestFirmwareVersionI2C.
		{Addr: 0x24, W: []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}},
		{Addr: 0x24, R: []byte{0x01}},
		{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		{Addr: 0x24, R: []byte{0x01}},
		{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}},

		// RFConfiguration item 05 MaxRetries: ATR FF, PSL 01, passive 02.
		// D4 32 05 FF 01 02: LEN 06, LCS FA, DCS F3.
		{Addr: 0x24, W: []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD4, 0x32, 0x05, 0xFF, 0x01, 0x02, 0xF3, 0x00}},
		{Addr: 0x24, R: []byte{0x01}},
		{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		{Addr: 0x24, R: []byte{0x01}},
		// Response D5 33 (DCS F8).
		{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD5, 0x33, 0xF8, 0x00}},
	}
}

// TestFirmwareVersionI2C spells out GetFirmwareVersion over I²C. The frames
// are the example of UM0701-02 §7.2.2 (GetFirmwareVersion):
// host 00 00 FF 02 FE D4 02 2A 00, PN532 00 00 FF 06 FA D5 03 32 01 06 07 E8 00
// (IC 0x32, firmware 1.6, support 0x07).
func TestFirmwareVersionI2C(t *testing.T) {
	ops := append(i2cInit(),
		// Command frame: preamble 00, start code 00 FF, LEN 02, LCS FE,
		// TFI D4, CC 02, DCS 2A (D4+02+2A = 0x100), postamble 00.
		i2ctest.IO{Addr: 0x24, W: []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}},
		// Ready poll: a 1-byte read, the only read allowed while busy.
		i2ctest.IO{Addr: 0x24, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		// Status byte 01 then the ACK frame 00 00 FF 00 FF 00.
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		// Ready poll for the response.
		i2ctest.IO{Addr: 0x24, R: []byte{0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		// Status byte 01 then the response: LEN 06, LCS FA, TFI D5, 03,
		// IC 32, Ver 01, Rev 06, Support 07, DCS E8, postamble.
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	ft := &fakeTime{}
	d, err := NewI2C(bus, playbackOpts(ft))
	if err != nil {
		t.Fatal(err)
	}
	fw, err := d.FirmwareVersion()
	if err != nil {
		t.Fatal(err)
	}
	if want := (FirmwareVersion{IC: 0x32, Ver: 0x01, Rev: 0x06, Support: 0x07}); fw != want {
		t.Fatalf("got %+v, want %+v", fw, want)
	}
	if s := d.String(); s != "PN532{playback addr 0x24}" {
		t.Errorf("String() = %q", s)
	}
	// WakeDelay once, then one PollInterval per not-ready poll.
	want := []time.Duration{2 * time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond}
	if len(ft.sleeps) != len(want) {
		t.Fatalf("sleeps %v, want %v", ft.sleeps, want)
	}
	for i := range want {
		if ft.sleeps[i] != want[i] {
			t.Fatalf("sleeps %v, want %v", ft.sleeps, want)
		}
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// spiInit is the SPI traffic of NewSPI: every byte is bit-reversed on the
// wire (the PN532 is LSB first, the host MSB first), so DW 01 -> 80,
// SR 02 -> 40, DR 03 -> C0, ready 01 -> 80, D4 -> 2B, D5 -> AB.
func spiInit() []conntest.IO {
	return []conntest.IO{
		// Wake-up: NSS low for one status read; the chip wakes on NSS.
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x00}},

		// DW + SAMConfiguration 00 00 FF 05 FB D4 14 01 14 00 03 00
		// (05 -> A0, FB -> DF, 14 -> 28, 03 -> C0).
		{W: []byte{0x80, 0x00, 0x00, 0xFF, 0xA0, 0xDF, 0x2B, 0x28, 0x80, 0x28, 0x00, 0xC0, 0x00}},
		// SR: not ready, then ready (01 -> 80).
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x00}},
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		// DR + 6 bytes: ACK 00 00 FF 00 FF 00 (the same reversed).
		{W: []byte{0xC0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		// DR + 9 bytes: 00 00 FF 02 FE D5 15 16 00 reversed.
		{W: []byte{0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x40, 0x7F, 0xAB, 0xA8, 0x68, 0x00}},

		// GetFirmwareVersion, see TestFirmwareVersionSPI.
		{W: []byte{0x80, 0x00, 0x00, 0xFF, 0x40, 0x7F, 0x2B, 0x40, 0x54, 0x00}},
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		{W: []byte{0xC0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		{W: []byte{0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x60, 0x5F, 0xAB, 0xC0, 0x4C, 0x80, 0x60, 0xE0, 0x17, 0x00}},

		// DW + RFConfiguration 00 00 FF 06 FA D4 32 05 FF 01 02 F3 00.
		{W: []byte{0x80, 0x00, 0x00, 0xFF, 0x60, 0x5F, 0x2B, 0x4C, 0xA0, 0xFF, 0x80, 0x40, 0xCF, 0x00}},
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		{W: []byte{0xC0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		// 00 00 FF 02 FE D5 33 F8 00 reversed.
		{W: []byte{0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x40, 0x7F, 0xAB, 0xCC, 0x1F, 0x00}},
	}
}

// TestFirmwareVersionSPI is the UM0701-02 §7.2.2 example over SPI (§6.2.5):
// prefix byte, LSB first, so each byte appears bit-reversed to spidev.
func TestFirmwareVersionSPI(t *testing.T) {
	ops := append(spiInit(),
		// DW (01 -> 80) + 00 00 FF 02 FE D4 02 2A 00, bit-reversed:
		// 02 -> 40, FE -> 7F, D4 -> 2B, 02 -> 40, 2A -> 54.
		conntest.IO{W: []byte{0x80, 0x00, 0x00, 0xFF, 0x40, 0x7F, 0x2B, 0x40, 0x54, 0x00}},
		// SR (02 -> 40): busy, then ready (01 -> 80) in the second byte.
		conntest.IO{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x00}},
		conntest.IO{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		// DR (03 -> C0) + 6 clocked bytes: the ACK frame.
		conntest.IO{W: []byte{0xC0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		// SR: response ready.
		conntest.IO{W: []byte{0x40, 0x00}, R: []byte{0x00, 0x80}},
		// DR + 13 bytes: 00 00 FF 06 FA D5 03 32 01 06 07 E8 00 reversed:
		// 06 -> 60, FA -> 5F, D5 -> AB, 03 -> C0, 32 -> 4C, 01 -> 80,
		// 06 -> 60, 07 -> E0, E8 -> 17.
		conntest.IO{W: []byte{0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, R: []byte{0x00, 0x00, 0x00, 0xFF, 0x60, 0x5F, 0xAB, 0xC0, 0x4C, 0x80, 0x60, 0xE0, 0x17, 0x00}},
	)
	port := &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
	d, err := NewSPI(port, playbackOpts(&fakeTime{}))
	if err != nil {
		t.Fatal(err)
	}
	fw, err := d.FirmwareVersion()
	if err != nil {
		t.Fatal(err)
	}
	if want := (FirmwareVersion{IC: 0x32, Ver: 0x01, Rev: 0x06, Support: 0x07}); fw != want {
		t.Fatalf("got %+v, want %+v", fw, want)
	}
	if err := port.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNoAckRetryI2C: the chip misses the first command frame (no ACK within
// AckTimeout), the driver sends it again.
func TestNoAckRetryI2C(t *testing.T) {
	fwCmd := []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}
	ops := i2cInit()
	// First attempt: status stays 00 until AckTimeout (30 ms at 1 ms polls:
	// 31 polls, the last one at the deadline).
	ops = append(ops, i2ctest.IO{Addr: 0x24, W: fwCmd})
	for range 31 {
		ops = append(ops, i2ctest.IO{Addr: 0x24, R: []byte{0x00}})
	}
	ops = append(ops,
		// Second attempt: the same frame, acknowledged this time.
		i2ctest.IO{Addr: 0x24, W: fwCmd},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := NewI2C(bus, playbackOpts(&fakeTime{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.FirmwareVersion(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBadChecksumNackI2C: a response with a wrong DCS is asked again with a
// NACK frame; a response that stays corrupt is an error.
func TestBadChecksumNackI2C(t *testing.T) {
	fwCmd := []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}
	bad := []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE9, 0x00} // DCS E9, not E8
	good := []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}
	nack := []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}
	ops := append(i2cInit(),
		i2ctest.IO{Addr: 0x24, W: fwCmd},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		// Response with a bad data checksum.
		i2ctest.IO{Addr: 0x24, R: bad},
		// NACK: the PN532 sends the response again.
		i2ctest.IO{Addr: 0x24, W: nack},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: good},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := NewI2C(bus, playbackOpts(&fakeTime{}))
	if err != nil {
		t.Fatal(err)
	}
	if fw, err := d.FirmwareVersion(); err != nil || fw.IC != 0x32 {
		t.Fatalf("got %+v, %v", fw, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}

	// Always corrupt: after Retries (3) NACKs the driver gives up.
	ops = append(i2cInit(),
		i2ctest.IO{Addr: 0x24, W: fwCmd},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: bad},
	)
	for range 3 {
		ops = append(ops,
			i2ctest.IO{Addr: 0x24, W: nack},
			i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
			i2ctest.IO{Addr: 0x24, R: bad})
	}
	bus = &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err = NewI2C(bus, playbackOpts(&fakeTime{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.FirmwareVersion(); !errors.Is(err, ErrDataChecksum) {
		t.Fatalf("got %v, want ErrDataChecksum", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWrongTFI: a response frame from the host direction is refused.
func TestWrongTFI(t *testing.T) {
	ops := append(i2cInit(),
		i2ctest.IO{Addr: 0x24, W: []byte{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}},
		i2ctest.IO{Addr: 0x24, R: []byte{0x01}},
		// TFI D4 instead of D5 (DCS E9 keeps the checksum right).
		i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD4, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE9, 0x00}},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := NewI2C(bus, playbackOpts(&fakeTime{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.FirmwareVersion(); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("got %v, want ErrBadAnswer", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNotPN532: a chip answering IC 0x33 is refused by NewI2C.
func TestNotPN532(t *testing.T) {
	ops := i2cInit()[:12]
	// IC 33 instead of 32: DCS E7.
	ops[11] = i2ctest.IO{Addr: 0x24, R: []byte{0x01, 0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x33, 0x01, 0x06, 0x07, 0xE7, 0x00}}
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	if _, err := NewI2C(bus, playbackOpts(&fakeTime{})); !errors.Is(err, ErrNotPN532) {
		t.Fatalf("got %v, want ErrNotPN532", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
