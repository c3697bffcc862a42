package sync

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/broker"
)

// memOutbox is an in-memory Outbox: records are committed as they are added
// and deleted when acked.
type memOutbox struct {
	mu      gosync.Mutex
	recs    []Record // index seq-1; Payload nil once acked
	acked   []bool
	ackN    map[uint64]int // how often each seq was acked
	pending int
	sig     chan struct{}
}

func newMemOutbox() *memOutbox {
	return &memOutbox{ackN: map[uint64]int{}, sig: make(chan struct{}, 1)}
}

// add commits one record whose payload carries its id.
func (o *memOutbox) add(topic string) uint64 {
	o.mu.Lock()
	seq := uint64(len(o.recs) + 1)
	o.recs = append(o.recs, Record{Seq: seq, Topic: topic, Payload: recordPayload(seq)})
	o.acked = append(o.acked, false)
	o.pending++
	o.mu.Unlock()
	select {
	case o.sig <- struct{}{}:
	default:
	}
	return seq
}

func recordPayload(seq uint64) []byte {
	return []byte(fmt.Sprintf(`{"id":"r-%d","seq":%d,"count":3}`, seq, seq))
}

func (o *memOutbox) Pending(after uint64, max int) ([]Record, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Record
	for i := int(after); i < len(o.recs) && len(out) < max; i++ {
		if !o.acked[i] {
			out = append(out, o.recs[i])
		}
	}
	return out, nil
}

func (o *memOutbox) Ack(seqs ...uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range seqs {
		o.ackN[s]++
		if s >= 1 && int(s) <= len(o.recs) && !o.acked[s-1] {
			o.acked[s-1] = true
			o.pending--
		}
	}
}

func (o *memOutbox) Committed() <-chan struct{} { return o.sig }

func (o *memOutbox) LastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return uint64(len(o.recs))
}

func (o *memOutbox) pendingCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending
}

func (o *memOutbox) isAcked(seq uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.acked[seq-1]
}

// received is one message seen by the test broker.
type received struct {
	Topic   string
	Payload []byte
	At      time.Time
	Seq     uint64
	ID      string
	Hist    bool
}

// recorder collects the messages the embedded broker sees on a filter.
type recorder struct {
	mu   gosync.Mutex
	msgs []received
}

func record(t *testing.T, b *broker.Broker, filter string) *recorder {
	t.Helper()
	r := &recorder{}
	if err := b.Subscribe(filter, func(m broker.Message) {
		rc := received{Topic: m.Topic, Payload: append([]byte(nil), m.Payload...), At: time.Now()}
		var v struct {
			ID   string `json:"id"`
			Seq  uint64 `json:"seq"`
			Hist bool   `json:"historical"`
		}
		if json.Unmarshal(m.Payload, &v) == nil {
			rc.ID, rc.Seq, rc.Hist = v.ID, v.Seq, v.Hist
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, rc)
		r.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *recorder) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

// seqs returns the distinct record seqs seen, sorted.
func (r *recorder) seqs() []uint64 {
	seen := map[uint64]bool{}
	for _, m := range r.all() {
		if m.Seq != 0 {
			seen[m.Seq] = true
		}
	}
	out := make([]uint64, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// faultProxy sits between the publisher and the broker: it can drop the
// broker's PUBACKs, cut every connection, or refuse new ones.
type faultProxy struct {
	ln         net.Listener
	target     string
	dropPuback atomic.Bool
	down       atomic.Bool
	publishes  atomic.Int64 // PUBLISH packets forwarded to the broker
	pubacks    atomic.Int64 // PUBACK packets forwarded to the client
	mu         gosync.Mutex
	conns      []net.Conn
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *faultProxy) url() string { return "tcp://" + p.ln.Addr().String() }

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go p.pipe(u, c, &p.publishes, 3, nil)         // client → broker
		go p.pipe(c, u, &p.pubacks, 4, &p.dropPuback) // broker → client
	}
}

// pipe copies MQTT packets from src to dst, counting packets of type kind
// and dropping them while drop is set.
func (p *faultProxy) pipe(dst, src net.Conn, count *atomic.Int64, kind byte, drop *atomic.Bool) {
	defer dst.Close()
	defer src.Close()
	for {
		pkt, err := readPacket(src)
		if err != nil {
			return
		}
		if pkt[0]>>4 == kind {
			if drop != nil && drop.Load() {
				continue
			}
			count.Add(1)
		}
		if _, err := dst.Write(pkt); err != nil {
			return
		}
	}
}

// readPacket reads one MQTT control packet: fixed header byte, remaining
// length (variable byte integer), body.
func readPacket(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 1, 5)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n, mul := 0, 1
	for i := 0; i < 4; i++ {
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		hdr = append(hdr, b[0])
		n += int(b[0]&0x7f) * mul
		mul *= 128
		if b[0]&0x80 == 0 {
			break
		}
	}
	pkt := make([]byte, len(hdr)+n)
	copy(pkt, hdr)
	if _, err := io.ReadFull(r, pkt[len(hdr):]); err != nil {
		return nil, err
	}
	return pkt, nil
}

// cut closes every proxied connection without a DISCONNECT, as a network
// failure would.
func (p *faultProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
