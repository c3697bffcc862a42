// Package ledger keeps the books of an end-to-end delivery test: every
// window message a cloud subscriber received, what a stopped daemon's
// outbox still holds, and the check, by message id and seq, that no
// committed window was lost and no id was sent with two contents.
//
// The agent's integration tests and the chaos harness (internal/chaos)
// share it.
package ledger

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/buffer"
)

// Message is one window message as the cloud sees it.
type Message struct {
	Topic       string
	ID          string `json:"id"`
	Seq         uint64 `json:"seq"`
	Type        string `json:"type"`
	Sensor      string `json:"sensor"`
	WindowStart string `json:"window_start"`
	Historical  bool   `json:"historical"`
	// Body is the payload without the historical flag (the one part a
	// re-send may change).
	Body string `json:"-"`
}

// Parse reads a window message; ok is false for anything else (status,
// health, replies).
func Parse(topic string, payload []byte) (m Message, ok bool) {
	if json.Unmarshal(payload, &m) != nil || m.ID == "" {
		return m, false
	}
	m.Topic = topic
	m.Body = strings.Replace(string(payload), `,"historical":true`, "", 1)
	return m, true
}

// Collector subscribes to everything the agent publishes (edge-agent/#,
// QoS 1), like a cloud service would, with a persistent session so a
// broker restart loses nothing on its side, and records every window
// message, re-sends included.
type Collector struct {
	mu   sync.Mutex
	msgs []Message
	cl   mqtt.Client
}

// Collect connects a Collector with client id id; it disconnects at the
// test's end.
func Collect(t testing.TB, url, id string) *Collector {
	t.Helper()
	c := &Collector{}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetOrderMatters(true)
	o.SetOnConnectHandler(func(cl mqtt.Client) {
		cl.Subscribe("edge-agent/#", 1, func(_ mqtt.Client, m mqtt.Message) {
			if msg, ok := Parse(m.Topic(), m.Payload()); ok {
				c.mu.Lock()
				c.msgs = append(c.msgs, msg)
				c.mu.Unlock()
			}
		})
	})
	c.cl = mqtt.NewClient(o)
	tok := c.cl.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("collector connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.cl.Disconnect(100) })
	return c
}

// Messages returns a copy of what was received so far, in arrival order.
func (c *Collector) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Len is the number of messages received so far.
func (c *Collector) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// ReadOutbox opens the outbox file of a stopped daemon and returns what it
// still holds, and its stats. A file that Open had to move aside is an
// error: the chaos checks count that as a loss, not as an empty outbox.
func ReadOutbox(path string) ([]Message, buffer.Stats, error) {
	ob, err := buffer.Open(path, buffer.DefaultOptions(), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, buffer.Stats{}, err
	}
	defer ob.Close()
	st := ob.Stats()
	if st.MovedAside > 0 {
		return nil, st, fmt.Errorf("%s was unusable and moved aside", path)
	}
	recs, err := ob.Pending(0, 1<<30)
	if err != nil {
		return nil, st, err
	}
	var out []Message
	for _, r := range recs {
		m, ok := Parse(r.Topic, r.Payload)
		if !ok {
			return nil, st, fmt.Errorf("outbox record %d is not a message: %s", r.Seq, r.Payload)
		}
		if m.Seq != r.Seq {
			return nil, st, fmt.Errorf("outbox record %d carries seq %d", r.Seq, m.Seq)
		}
		out = append(out, m)
	}
	return out, st, nil
}

// OutboxLeft is ReadOutbox failing the test on error.
func OutboxLeft(t testing.TB, path string) ([]Message, buffer.Stats) {
	t.Helper()
	left, st, err := ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	return left, st
}

// Result is the outcome of Check.
type Result struct {
	// Committed is the number of seqs the daemon committed and did not
	// drop by its bound: Dropped+1 … LastSeq of the final outbox (seqs are
	// handed out one by one and never reused once committed).
	Committed int
	// Delivered is the number of distinct committed seqs the subscriber
	// received; Received counts every message, re-sends included.
	Delivered, Received int
	// InOutbox is the number of committed seqs still in the outbox.
	InOutbox int
	// Lost are committed seqs neither delivered nor in the outbox (the
	// first few are listed in Problems).
	Lost int
	// Differing counts ids (or seqs) seen with two contents.
	Differing int
	// Problems says what is wrong, the first few of each kind.
	Problems []string
}

// Err is nil when nothing was lost or sent twice with other content.
func (r Result) Err() error {
	if r.Lost == 0 && r.Differing == 0 && len(r.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%d committed lost, %d differing: %s", r.Lost, r.Differing, strings.Join(r.Problems, "; "))
}

// Check holds what the cloud received and what the outbox still holds
// against the outbox's final stats: every committed seq was delivered or
// is still buffered, a re-sent id carried the same content, and a seq was
// never used by two ids.
func Check(delivered, left []Message, st buffer.Stats) Result {
	var r Result
	byID := map[string]string{}
	bySeq := map[uint64]Message{}
	note := func(format string, a ...any) {
		if len(r.Problems) < 8 {
			r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
		}
	}
	inOutbox := map[uint64]bool{}
	for _, m := range left {
		inOutbox[m.Seq] = true
	}
	for _, m := range append(append([]Message(nil), delivered...), left...) {
		if prev, ok := byID[m.ID]; ok && prev != m.Body {
			r.Differing++
			note("id %s was sent with two contents:\n%s\n%s", m.ID, prev, m.Body)
		}
		byID[m.ID] = m.Body
		if prev, ok := bySeq[m.Seq]; ok && prev.ID != m.ID {
			r.Differing++
			note("seq %d used by %s and %s", m.Seq, prev.ID, m.ID)
		}
		bySeq[m.Seq] = m
	}
	r.Received = len(delivered)
	if st.LastSeq == 0 {
		note("nothing was ever committed")
		return r
	}
	got := map[uint64]bool{}
	for _, m := range delivered {
		got[m.Seq] = true
	}
	for s := st.Dropped + 1; s <= st.LastSeq; s++ {
		r.Committed++
		switch {
		case got[s]:
			r.Delivered++
		case inOutbox[s]:
			r.InOutbox++
		default:
			r.Lost++
			if r.Lost <= 5 {
				note("seq %d committed but neither delivered nor in the outbox", s)
			}
		}
	}
	for s := range bySeq {
		if s > st.LastSeq {
			r.Differing++
			note("seq %d was seen but the outbox's last seq is %d (a seq reused after a lost commit)", s, st.LastSeq)
		}
	}
	return r
}

// CheckNothingLost fails the test unless Check passes and (window > 0)
// each sensor's windows follow each other with no hole.
func CheckNothingLost(t testing.TB, delivered, left []Message, st buffer.Stats, window time.Duration) {
	t.Helper()
	if err := Check(delivered, left, st).Err(); err != nil {
		t.Fatal(err)
	}
	if window == 0 {
		return
	}
	starts := map[string][]time.Time{}
	seen := map[uint64]bool{}
	for _, m := range append(append([]Message(nil), delivered...), left...) {
		if seen[m.Seq] || m.Seq <= st.Dropped || m.Type != "sensor_window" {
			continue
		}
		seen[m.Seq] = true
		ts, err := time.Parse(time.RFC3339, m.WindowStart)
		if err != nil {
			t.Fatal(err)
		}
		starts[m.Sensor] = append(starts[m.Sensor], ts)
	}
	for s, ts := range starts {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d != window {
				t.Fatalf("sensor %s: windows %s and %s are %v apart, want %v", s, ts[i-1], ts[i], d, window)
			}
		}
	}
}

// CheckIDs holds the windows known to have been committed (read from
// synced outbox images, say, at the moment of a crash) against what the
// cloud received and the outbox still holds, by id: each must be in one or
// the other, with the same content. Unlike Check it does not rely on seqs,
// so it also catches a committed window whose seq was handed out again.
func CheckIDs(committed, delivered, left []Message) (lost, differing int, problems []string) {
	have := map[string]string{}
	for _, m := range append(append([]Message(nil), delivered...), left...) {
		have[m.ID] = m.Body
	}
	for _, m := range committed {
		body, ok := have[m.ID]
		switch {
		case !ok:
			lost++
			if lost <= 5 {
				problems = append(problems, fmt.Sprintf("id %s (seq %d) was committed but neither delivered nor in the outbox", m.ID, m.Seq))
			}
		case body != m.Body:
			differing++
			if differing <= 5 {
				problems = append(problems, fmt.Sprintf("id %s was committed as\n%s\nand delivered as\n%s", m.ID, m.Body, body))
			}
		}
	}
	return lost, differing, problems
}
