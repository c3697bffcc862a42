package ntag_test

import (
	"testing"
)

// The benchmarks run the driver against the emulator with a manual clock, so
// they measure CPU per operation; bus cost is reported as transactions and
// EEPROM blocks per operation (each block write is ~4 ms on the chip).
func benchWrite(b *testing.B, n int) {
	d, emu, _ := setup(b, false, nil)
	msg := message(n)
	before := emu.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := d.WriteNDEF(msg); err != nil {
			b.Fatal(err)
		}
	}
	after := emu.Stats()
	b.ReportMetric(float64(after.Tx-before.Tx)/float64(b.N), "tx/op")
	b.ReportMetric(float64(after.BlockWrites-before.BlockWrites)/float64(b.N), "blocks/op")
}

func BenchmarkWriteNDEF_12B(b *testing.B)  { benchWrite(b, 12) }
func BenchmarkWriteNDEF_100B(b *testing.B) { benchWrite(b, 100) }
func BenchmarkWriteNDEF_860B(b *testing.B) { benchWrite(b, 860) }

func BenchmarkReadNDEF_100B(b *testing.B) {
	d, emu, _ := setup(b, false, nil)
	if err := d.WriteNDEF(message(100)); err != nil {
		b.Fatal(err)
	}
	before := emu.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.ReadNDEF(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(emu.Stats().Tx-before.Tx)/float64(b.N), "tx/op")
}

func BenchmarkFieldPresent(b *testing.B) {
	d, _, _ := setup(b, false, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.FieldPresent(); err != nil {
			b.Fatal(err)
		}
	}
}
