package pn532

import (
	"context"
	"errors"
	"testing"
)

// BenchmarkPoll measures one poll cycle against the emulator: a card in the
// field, or an empty field (InListPassiveTarget exhausting its MaxRetries).
// tx/poll counts bus transactions, polls/poll the status polls among them.
func BenchmarkPoll(b *testing.B) {
	for _, tr := range transports {
		for _, field := range []string{"card", "empty"} {
			b.Run(tr.name+"/"+field, func(b *testing.B) {
				d, e, _ := newEmu(b, tr.open)
				if field == "card" {
					_ = e.PresentCard([]byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66})
				}
				e.ResetStats()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					_, err := d.InListPassiveTarget(TypeA106, nil)
					if err != nil && !errors.Is(err, ErrNoTarget) {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				s := e.Stats()
				b.ReportMetric(float64(s.Transactions)/float64(b.N), "tx/poll")
				b.ReportMetric(float64(s.StatusPolls)/float64(b.N), "polls/poll")
			})
		}
	}
}

// BenchmarkCheckin is a full HCE check-in: list the phone, SELECT AID.
func BenchmarkCheckin(b *testing.B) {
	aid := []byte{0xF0, 0x4F, 0x4D, 0x4F, 0x01}
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			d, e, _ := newEmu(b, tr.open)
			_ = e.PresentPhoneHCE(aid, []byte("member-token-0123456789"))
			e.ResetStats()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := d.Poll(context.Background()); err != nil {
					b.Fatal(err)
				}
				if _, err := d.SelectAID(aid); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(e.Stats().Transactions)/float64(b.N), "tx/checkin")
		})
	}
}

func BenchmarkParseFrame(b *testing.B) {
	f := []byte{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00}
	b.ReportAllocs()
	for range b.N {
		if _, _, err := ParseFrame(f); err != nil {
			b.Fatal(err)
		}
	}
}
