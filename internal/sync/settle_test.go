package sync

import (
	"testing"
	"time"
)

// A record whose PUBACK arrived is deleted from the outbox only AckSettle
// later; when the connection is lost before that, it is sent again on the
// next connection (a broker that acknowledged and then went down may not
// have stored it).
func TestAckSettle(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"agg/#")
	px := newFaultProxy(t, b.Addr())
	ob := newMemOutbox()
	cfg := testConfig(px.url())
	cfg.AckSettle = 400 * time.Millisecond
	p := newPublisher(t, cfg, ob)
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "online", func() bool { return px.pubacks.Load() == 1 }) // the status

	first := ob.add("agg/door")
	waitFor(t, 3*time.Second, "its PUBACK", func() bool { return px.pubacks.Load() == 2 })
	acked := time.Now()
	if ob.isAcked(first) {
		t.Fatal("deleted from the outbox at the PUBACK, before ack_settle")
	}
	waitFor(t, 3*time.Second, "the settled ack", func() bool { return ob.isAcked(first) })
	if d := time.Since(acked); d < 300*time.Millisecond {
		t.Fatalf("acked %v after the PUBACK, want about ack_settle (400ms)", d)
	}

	// PUBACKed, then the connection dies within ack_settle
	pubacks := px.pubacks.Load()
	second := ob.add("agg/door")
	waitFor(t, 3*time.Second, "the second PUBACK", func() bool { return px.pubacks.Load() > pubacks })
	px.cut()
	waitFor(t, 5*time.Second, "the record sent again and settled", func() bool { return ob.isAcked(second) })
	var sends, historical int
	for _, m := range rec.all() {
		if m.Seq == second {
			sends++
			if m.Hist {
				historical++
			}
		}
	}
	if sends != 2 || historical != 1 {
		t.Fatalf("seq %d sent %d times (%d historical), want twice: live, then again as backlog", second, sends, historical)
	}
	if st := p.Status(); st.Acked != 2 {
		t.Fatalf("acked %d, want 2 (each record once)", st.Acked)
	}
}

// With ack_settle 0 a record is deleted at its PUBACK.
func TestAckSettleZero(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	px := newFaultProxy(t, b.Addr())
	ob := newMemOutbox()
	p := newPublisher(t, testConfig(px.url()), ob)
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "online", func() bool { return px.pubacks.Load() == 1 }) // the status
	seq := ob.add("agg/door")
	waitFor(t, 3*time.Second, "its PUBACK", func() bool { return px.pubacks.Load() == 2 })
	waitFor(t, 100*time.Millisecond, "acked at once", func() bool { return ob.isAcked(seq) })
}
