package sync

import (
	gosync "sync"
	"time"
)

// settler holds the seqs whose PUBACK arrived for Config.AckSettle before
// it acks them to the outbox, and forgets them if the connection is lost
// meanwhile, so they are sent again on the next connection. Some brokers
// acknowledge a QoS 1 publish before they have stored it: NATS 2.9
// PUBACKs messages that a clean restart then loses (some 20 ms' worth,
// measured in internal/agent's broker tests, docs/RELIABILITY.md). A
// broker that goes down drops the connection at the same moment, so what
// it acknowledged in its last AckSettle is re-sent: duplicates, which the
// cloud removes by id, instead of a loss.
type settler struct {
	p    *Publisher
	d    time.Duration
	lost <-chan struct{}

	mu        gosync.Mutex
	pending   []settling
	forgotten int // seqs left to the next connection
	stop      chan struct{}
	done      chan struct{}
}

type settling struct {
	at   time.Time
	seqs []uint64
}

func (p *Publisher) newSettler(lost <-chan struct{}) *settler {
	s := &settler{p: p, d: p.cfg.AckSettle, lost: lost, stop: make(chan struct{}), done: make(chan struct{})}
	if s.d <= 0 {
		close(s.done)
		return s
	}
	go s.loop()
	return s
}

// add takes seqs whose PUBACK arrived (the slice is kept).
func (s *settler) add(seqs []uint64) {
	if s.d <= 0 {
		s.ack(seqs)
		return
	}
	s.mu.Lock()
	s.pending = append(s.pending, settling{time.Now(), seqs})
	s.mu.Unlock()
}

func (s *settler) loop() {
	defer close(s.done)
	t := time.NewTicker(max(s.d/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.lost:
			return
		case now := <-t.C:
			s.release(now.Add(-s.d))
		}
	}
}

// release acks what was acknowledged before cutoff, unless the connection
// is lost.
func (s *settler) release(cutoff time.Time) {
	s.mu.Lock()
	n := 0
	for n < len(s.pending) && !s.pending[n].at.After(cutoff) {
		n++
	}
	due := s.pending[:n:n]
	s.pending = s.pending[n:]
	s.mu.Unlock()
	for _, b := range due {
		select {
		case <-s.lost: // too late for these: sent again on the next connection
			s.forget(b.seqs)
			continue
		default:
		}
		s.ack(b.seqs)
	}
}

// close ends the session's settling: on a clean end (the connection still
// up) everything pending is acked, after a loss it is forgotten.
func (s *settler) close() {
	if s.d <= 0 {
		return
	}
	close(s.stop)
	<-s.done
	s.release(time.Now().Add(time.Hour))
	if s.forgotten > 0 {
		s.p.log.Info("records acknowledged just before the connection was lost are sent again",
			"records", s.forgotten, "ack_settle", s.d)
	}
}

func (s *settler) ack(seqs []uint64) {
	s.p.ob.Ack(seqs...)
	s.p.acked.Add(uint64(len(seqs)))
}

func (s *settler) forget(seqs []uint64) {
	s.mu.Lock()
	s.forgotten += len(seqs)
	s.mu.Unlock()
}
