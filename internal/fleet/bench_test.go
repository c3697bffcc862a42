package fleet

import (
	"testing"
	"time"
)

// BenchmarkConsumerHandle: what the consumer costs per window message
// (parse, dedupe, per-store totals), the cloud side's share of a drain.
func BenchmarkConsumerHandle(b *testing.B) {
	msgs := make([][]byte, 1000)
	for i := range msgs {
		msgs[i] = window("s1", uint64(i+1), int64(i*60), i%2 == 0)
	}
	c := NewConsumer()
	at := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Handle(msgs[i%len(msgs)], at)
	}
}
