package vl53l1x_test

import (
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x"
	"github.com/omo-edge/edge-agent/drivers/people-counter/vl53l1x/vl53l1xtest"
	"periph.io/x/conn/v3/physic"
)

// garbageBus answers every read with bytes from data (cycling) and accepts
// every write: the driver must turn any bus content into a reading or an
// error, never a panic or a hang.
type garbageBus struct {
	data []byte
	i    int
}

func (g *garbageBus) String() string                  { return "garbage" }
func (g *garbageBus) SetSpeed(physic.Frequency) error { return nil }
func (g *garbageBus) Tx(_ uint16, _, r []byte) error {
	for k := range r {
		if len(g.data) == 0 {
			r[k] = 0
			continue
		}
		r[k] = g.data[g.i%len(g.data)]
		g.i++
	}
	return nil
}

func FuzzDriverBusGarbage(f *testing.F) {
	f.Add([]byte{0xEA, 0xCC, 0x01, 0x01, 0x01})
	f.Add([]byte{0xEA, 0xCC, 0x01, 0x11, 0x00, 0x09, 0x00, 0x01})
	f.Add([]byte{0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := vl53l1xtest.NewFakeClock(time.Unix(0, 0))
		bus := &garbageBus{data: data}
		d, err := vl53l1x.New(bus, &vl53l1x.Opts{TimingBudget: 20 * time.Millisecond, Now: clk.Now, Sleep: clk.Sleep})
		if err != nil {
			return
		}
		if err := d.StartRanging(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			r, err := d.Read()
			if err != nil {
				continue
			}
			if r.DistanceMM < 0 || r.DistanceMM > 0xFFFF || (r.Status != vl53l1x.StatusUnknown && r.Status > 13) {
				t.Fatalf("impossible reading %+v", r)
			}
		}
	})
}

// FuzzEmulatorTx sends arbitrary transactions to the emulator: it must
// answer or fail, never panic, and keep its I²C address 7-bit.
func FuzzEmulatorTx(f *testing.F) {
	f.Add([]byte{0x00, 0x87, 0x40}, uint8(4), uint16(10))
	f.Add([]byte{0x00, 0x2D, 0x00, 0x00, 0x00, 0x01, 0x02}, uint8(2), uint16(1))
	f.Add([]byte{0x00, 0x01, 0xFF}, uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, w []byte, n uint8, advanceMs uint16) {
		clk := vl53l1xtest.NewFakeClock(time.Unix(0, 0))
		e := vl53l1xtest.New(&vl53l1xtest.Options{Clock: clk})
		r := make([]byte, n)
		_ = e.Tx(0x29, w, r)
		clk.Advance(time.Duration(advanceMs) * time.Millisecond)
		_ = e.Tx(e.Addr(), []byte{0x00, 0x31}, r)
		_ = e.Measurements()
		if e.Addr() > 0x7F {
			t.Fatalf("address %#x", e.Addr())
		}
	})
}
