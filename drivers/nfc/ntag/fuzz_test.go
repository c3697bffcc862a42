package ntag_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/omo-edge/edge-agent/drivers/nfc/ntag"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
)

// FuzzReadNDEF loads garbage into user memory and checks that ReadNDEF never
// panics, and that it agrees with the emulated phone, which parses the same
// data area independently: both find the same message or both fail.
func FuzzReadNDEF(f *testing.F) {
	f.Add([]byte{0x03, 0x00, 0xFE})
	f.Add([]byte{0x03, 0x03, 0xD1, 0x01, 0x00, 0xFE})
	f.Add([]byte{0x00, 0x00, 0x01, 0x03, 0xA0, 0x10, 0x44, 0x03, 0x01, 0x55, 0xFE})
	f.Add([]byte{0x03, 0xFF, 0x03, 0x68, 0x00})       // 3-byte length past the end
	f.Add([]byte{0x03, 0xFF, 0x01})                   // truncated 3-byte length
	f.Add([]byte{0xFD, 0x02, 0x00, 0x00, 0x03, 0x00}) // proprietary TLV skipped
	f.Add([]byte{0xFE})
	f.Add(bytes.Repeat([]byte{0x00}, 880))
	f.Add(append(bytes.Repeat([]byte{0x00}, 869), 0x03, 0x05))
	f.Fuzz(func(t *testing.T, mem []byte) {
		if len(mem) > 888 {
			mem = mem[:888]
		}
		c := newClock()
		emu := ntagtest.New(&ntagtest.Opts{Now: c.Now})
		// A short input leaves the factory bytes after it in place: zero them
		// so the input is the whole data area.
		full := make([]byte, 888)
		copy(full, mem)
		if err := emu.LoadUserMemory(full); err != nil {
			t.Fatal(err)
		}
		d, err := ntag.New(emu, &ntag.Opts{Sleep: c.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.ReadNDEF()
		emu.PhoneTap()
		want, werr := emu.RFReadNDEF()
		if (err == nil) != (werr == nil) {
			t.Fatalf("driver: %v; phone: %v", err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("driver read % X, phone % X", got, want)
		}
		if err != nil && !errors.Is(err, ntag.ErrNoNDEF) && len(err.Error()) == 0 {
			t.Fatal("empty error")
		}
	})
}
