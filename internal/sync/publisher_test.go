package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/broker"
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func startBroker(t *testing.T, addr string, opts ...broker.Option) *broker.Broker {
	t.Helper()
	b, err := broker.Start(addr, testLogger(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testConfig(url string) Config {
	c := DefaultConfig()
	c.Broker = url
	c.StoreID = "s1"
	c.AgentID = "a1"
	c.BackoffMin = 20 * time.Millisecond
	c.BackoffMax = 100 * time.Millisecond
	c.ConnectTimeout = 2 * time.Second
	c.BacklogRate = 0
	c.BatchSize = 16
	c.AckSettle = 0 // acked at the PUBACK; settle_test.go tests the settling
	return c
}

// runPublisher runs p until the test ends; stop ends it early and waits.
func runPublisher(t *testing.T, p *Publisher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func newPublisher(t *testing.T, cfg Config, ob Outbox, opts ...Option) *Publisher {
	t.Helper()
	p, err := New(cfg, ob, testLogger(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const base = "edge-agent/s1/a1/"

func TestPublishAndAck(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"#")
	ob := newMemOutbox()
	for i := 0; i < 40; i++ { // backlog: committed before the connection
		ob.add("agg/door")
	}
	p := newPublisher(t, testConfig(b.URL()), ob)
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "backlog acked", func() bool { return ob.pendingCount() == 0 })
	for i := 0; i < 10; i++ { // live
		ob.add("store")
	}
	waitFor(t, 5*time.Second, "live acked", func() bool { return ob.pendingCount() == 0 })
	// the broker PUBACKs before it hands a message to subscribers
	waitFor(t, 2*time.Second, "all seen", func() bool { return len(rec.seqs()) == 50 })

	got := map[uint64]received{}
	for _, m := range rec.all() {
		if m.Seq == 0 {
			continue
		}
		if _, dup := got[m.Seq]; dup {
			t.Errorf("seq %d delivered twice without any connection loss", m.Seq)
		}
		got[m.Seq] = m
	}
	for seq := uint64(1); seq <= 50; seq++ {
		m, ok := got[seq]
		if !ok {
			t.Fatalf("seq %d never reached the broker", seq)
		}
		wantTopic, wantHist := base+"agg/door", true
		if seq > 40 {
			wantTopic, wantHist = base+"store", false
		}
		if m.Topic != wantTopic || m.Hist != wantHist {
			t.Errorf("seq %d: topic %q historical %v, want %q %v", seq, m.Topic, m.Hist, wantTopic, wantHist)
		}
		if !wantHist && !bytes.Equal(m.Payload, recordPayload(seq)) {
			t.Errorf("seq %d: live payload %s changed from %s", seq, m.Payload, recordPayload(seq))
		}
	}
	for seq, n := range ob.ackN {
		if n != 1 {
			t.Errorf("seq %d acked %d times", seq, n)
		}
	}
	st := p.Status()
	if !st.Connected || st.Sent != 50 || st.Acked != 50 || st.InFlight != 0 || st.BacklogRemaining != 0 {
		t.Errorf("status %+v, want connected, 50 sent, 50 acked, none in flight or left", st)
	}
}

func TestStatusOnlineAndOfflineOnShutdown(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"status")
	p := newPublisher(t, testConfig(b.URL()), newMemOutbox())
	stop := runPublisher(t, p)
	waitFor(t, 5*time.Second, "online status", func() bool { return len(rec.all()) >= 1 })
	stop()
	// the broker may PUBACK before it hands the message to subscribers
	waitFor(t, 2*time.Second, "offline status", func() bool { return len(rec.all()) >= 2 })
	msgs := rec.all()
	if len(msgs) != 2 {
		t.Fatalf("status messages %d, want online then offline", len(msgs))
	}
	for i, want := range []string{"online", "offline"} {
		var s struct{ State, Agent, Store, TS string }
		if err := json.Unmarshal(msgs[i].Payload, &s); err != nil {
			t.Fatal(err)
		}
		if s.State != want || s.Agent != "a1" || s.Store != "s1" {
			t.Errorf("status %d = %s, want state %s of agent a1 store s1", i, msgs[i].Payload, want)
		}
		if _, err := time.Parse(time.RFC3339Nano, s.TS); err != nil {
			t.Errorf("status ts: %v", err)
		}
	}
	if p.Status().Connected {
		t.Error("still connected after Run returned")
	}
}

// A record is acked only after its PUBACK: with the PUBACKs dropped the
// broker has every record but the outbox keeps them all, and after the
// connection is cut they are re-sent with the same ids.
func TestNothingAckedWithoutPuback(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"#")
	px := newFaultProxy(t, b.Addr())
	px.dropPuback.Store(true)
	ob := newMemOutbox()
	p := newPublisher(t, testConfig(px.url()), ob)
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "connected", func() bool { return p.Status().Connected })
	for i := 0; i < 10; i++ {
		ob.add("agg/door")
	}
	waitFor(t, 5*time.Second, "broker got 10 records", func() bool { return len(rec.seqs()) == 10 })
	time.Sleep(200 * time.Millisecond) // PUBACKs would have come by now
	if n := ob.pendingCount(); n != 10 {
		t.Fatalf("%d records left in the outbox, want all 10 (no PUBACK reached the client)", n)
	}
	if st := p.Status(); st.Acked != 0 || st.InFlight < 10 {
		t.Errorf("status %+v: want 0 acked and the records in flight", st)
	}

	px.dropPuback.Store(false)
	px.cut()
	waitFor(t, 5*time.Second, "re-sent records acked", func() bool { return ob.pendingCount() == 0 })
	perSeq := map[uint64][][]byte{}
	for _, m := range rec.all() {
		if m.Seq != 0 {
			perSeq[m.Seq] = append(perSeq[m.Seq], m.Payload)
		}
	}
	for seq := uint64(1); seq <= 10; seq++ {
		ps := perSeq[seq]
		if len(ps) != 2 {
			t.Fatalf("seq %d delivered %d times, want twice (before and after the cut)", seq, len(ps))
		}
		// first live, then re-sent as backlog: same record bytes plus the flag
		if !bytes.Equal(ps[0], recordPayload(seq)) || !bytes.Equal(ps[1], markHistorical(recordPayload(seq))) {
			t.Errorf("seq %d payloads %s / %s", seq, ps[0], ps[1])
		}
	}
	if st := p.Status(); st.Reconnects < 1 {
		t.Errorf("reconnects %d, want >= 1", st.Reconnects)
	}
}

// Records committed while the broker is down are delivered once it is back
// on the same port; records whose connection dropped are re-sent.
func TestResendAfterBrokerRestart(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	rec1 := record(t, b, base+"#")
	ob := newMemOutbox()
	p := newPublisher(t, testConfig(b.URL()), ob)
	runPublisher(t, p)
	for i := 0; i < 20; i++ {
		ob.add("store")
	}
	waitFor(t, 5*time.Second, "first records acked", func() bool { return ob.pendingCount() == 0 })
	waitFor(t, 2*time.Second, "first records seen", func() bool { return len(rec1.seqs()) == 20 })
	b.Close()
	waitFor(t, 5*time.Second, "disconnect noticed", func() bool { return !p.Status().Connected })
	for i := 0; i < 30; i++ {
		ob.add("store")
	}
	time.Sleep(100 * time.Millisecond)
	if n := ob.pendingCount(); n != 30 {
		t.Fatalf("%d records pending while the broker is down, want 30", n)
	}
	b2 := startBroker(t, addr)
	rec2 := record(t, b2, base+"#")
	waitFor(t, 10*time.Second, "records acked after restart", func() bool { return ob.pendingCount() == 0 })
	waitFor(t, 2*time.Second, "records seen after restart", func() bool { return len(rec2.seqs()) >= 30 })
	got := append(rec1.seqs(), rec2.seqs()...)
	seen := map[uint64]bool{}
	for _, s := range got {
		seen[s] = true
	}
	for seq := uint64(1); seq <= 50; seq++ {
		if !seen[seq] {
			t.Errorf("seq %d missing", seq)
		}
	}
	// the records of the outage drained in seq order, flagged historical
	var last uint64
	for _, m := range rec2.all() {
		if m.Seq == 0 {
			continue
		}
		if m.Seq <= last {
			t.Errorf("seq %d after %d", m.Seq, last)
		}
		last = m.Seq
		if !bytes.Equal(m.Payload, markHistorical(recordPayload(m.Seq))) {
			t.Errorf("seq %d after the outage: %s, want the stored record flagged historical", m.Seq, m.Payload)
		}
	}
}

func TestBacklogRateLimitedLiveOvertakes(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"#")
	ob := newMemOutbox()
	for i := 0; i < 30; i++ {
		ob.add("agg/door")
	}
	cfg := testConfig(b.URL())
	cfg.BacklogRate = 20 // burst 2: 30 records take >= 1.4 s
	p := newPublisher(t, cfg, ob)
	start := time.Now()
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "a few backlog records", func() bool { return len(rec.seqs()) >= 5 })
	if left := p.Status().BacklogRemaining; left == 0 || left > 25 {
		t.Errorf("backlog remaining %d during the drain, want 1..25", left)
	}
	liveAt := time.Now()
	live := ob.add("store")
	waitFor(t, time.Second, "live record within a second", func() bool { return ob.isAcked(live) })
	liveLatency := time.Since(liveAt)
	waitFor(t, 5*time.Second, "backlog drained", func() bool { return ob.pendingCount() == 0 })
	elapsed := time.Since(start)
	waitFor(t, 2*time.Second, "all seen", func() bool { return len(rec.seqs()) == 31 })
	if elapsed < 1300*time.Millisecond {
		t.Errorf("30 backlog records at 20/s took %v, want >= 1.3s", elapsed)
	}
	var order []uint64
	for _, m := range rec.all() {
		if m.Seq == 0 {
			continue
		}
		order = append(order, m.Seq)
		if (m.Seq <= 30) != m.Hist {
			t.Errorf("seq %d historical=%v", m.Seq, m.Hist)
		}
	}
	livePos := -1
	for i, s := range order {
		if s == live {
			livePos = i
		}
	}
	if livePos < 0 || livePos >= 30 {
		t.Errorf("live record at position %d of %v, want before the end of the backlog", livePos, order)
	}
	var backlog []uint64
	for _, s := range order {
		if s != live {
			backlog = append(backlog, s)
		}
	}
	for i, s := range backlog {
		if s != uint64(i+1) {
			t.Fatalf("backlog order %v, want 1..30", backlog)
		}
	}
	t.Logf("live latency %v during a 20 msg/s backlog drain", liveLatency)
}

func TestCommands(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"reply/#")
	data := record(t, b, base+"store")
	ob := newMemOutbox()
	cfg := testConfig(b.URL())
	cfg.CommandTimeout = 200 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	p := newPublisher(t, cfg, ob, WithCommands(func(name string, payload []byte) []byte {
		switch name {
		case "echo":
			return append([]byte(`{"echo":`), append(payload, '}')...)
		case "boom":
			panic("handler bug")
		case "slow":
			<-release
			return []byte(`{"late":true}`)
		}
		return nil // unknown: no reply
	}))
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "connected", func() bool { return p.Status().Connected })
	time.Sleep(50 * time.Millisecond) // the subscription follows the CONNACK
	replies := func(topic string) []string {
		var out []string
		for _, m := range rec.all() {
			if m.Topic == base+"reply/"+topic {
				out = append(out, string(m.Payload))
			}
		}
		return out
	}
	for _, c := range []struct{ name, payload, want string }{
		{"echo", `"hi"`, `{"echo":"hi"}`},
		{"boom", `{}`, `{"command":"boom","error":"handler failed"}`},
		{"slow", `{}`, `{"command":"slow","error":"timeout"}`},
	} {
		if err := b.Publish(base+"cmd/"+c.name, []byte(c.payload), false, 1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Second, "reply to "+c.name, func() bool { return len(replies(c.name)) > 0 })
		if got := replies(c.name); len(got) != 1 || got[0] != c.want {
			t.Errorf("reply to %s: %q, want %q", c.name, got, c.want)
		}
	}
	if err := b.Publish(base+"cmd/unknown", []byte(`{}`), false, 1); err != nil {
		t.Fatal(err)
	}
	// the publisher survived the panic and the stuck handler
	seq := ob.add("store")
	waitFor(t, 3*time.Second, "record after bad handlers", func() bool { return ob.isAcked(seq) })
	waitFor(t, 2*time.Second, "record seen", func() bool { return len(data.seqs()) == 1 })
	if len(data.seqs()) != 1 || len(replies("unknown")) != 0 {
		t.Errorf("data %v, unknown replies %v", data.seqs(), replies("unknown"))
	}
}

// The broker publishes the retained offline Last Will when the connection
// dies without a DISCONNECT; the publisher then comes back online.
func TestLastWillOnConnectionKilled(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	px := newFaultProxy(t, b.Addr())
	p := newPublisher(t, testConfig(px.url()), newMemOutbox())
	runPublisher(t, p)
	states := func() []string {
		var out []string
		// a fresh retained read shows what a newly connecting client sees
		for _, m := range record(t, b, base+"status").all() {
			var s struct{ State string }
			_ = json.Unmarshal(m.Payload, &s)
			out = append(out, s.State)
		}
		return out
	}
	live := watch(t, b.URL(), base+"status") // another MQTT client
	waitFor(t, 5*time.Second, "online", func() bool { return len(live.all()) == 1 })
	if got := states(); len(got) != 1 || got[0] != "online" {
		t.Fatalf("retained status %v, want online", got)
	}
	px.down.Store(true) // keep it down so the will stays the retained state
	px.cut()
	waitFor(t, 5*time.Second, "last will", func() bool { return len(live.all()) >= 2 })
	if got := states(); len(got) != 1 || got[0] != "offline" {
		t.Fatalf("retained status after the kill %v, want offline", got)
	}
	px.down.Store(false)
	waitFor(t, 5*time.Second, "online again", func() bool { return len(live.all()) >= 3 })
	if got := states(); len(got) != 1 || got[0] != "online" {
		t.Fatalf("retained status after reconnect %v, want online", got)
	}
	var seen []string
	for _, m := range live.all() {
		var s struct{ State string }
		_ = json.Unmarshal(m.Payload, &s)
		seen = append(seen, s.State)
	}
	if strings.Join(seen, ",") != "online,offline,online" {
		t.Errorf("watcher saw %v, want online, offline (the will), online", seen)
	}
}

// watch subscribes a separate paho client to filter.
func watch(t *testing.T, url, filter string) *recorder {
	t.Helper()
	r := &recorder{}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("watcher").
		SetAutoReconnect(false).SetProtocolVersion(4))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(10) })
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, received{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), At: time.Now()})
		r.mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher subscribe: %v", tok.Error())
	}
	return r
}

func TestHealthPublishedRetained(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"health")
	cfg := testConfig(b.URL())
	cfg.HealthInterval = 50 * time.Millisecond
	var calls atomic.Int64
	p := newPublisher(t, cfg, newMemOutbox(), WithHealth(func() any {
		n := calls.Add(1)
		if n == 2 {
			panic("health bug")
		}
		return map[string]int64{"depth": n}
	}))
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "three health messages", func() bool { return len(rec.all()) >= 3 })
	msgs := rec.all()
	if string(msgs[0].Payload) != `{"depth":1}` || string(msgs[1].Payload) != `{"depth":3}` {
		t.Errorf("health %s, %s: want depth 1 then 3 (2 panicked)", msgs[0].Payload, msgs[1].Payload)
	}
}

func TestCheck(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0", broker.WithUsers(map[string]string{"agent": "s3cret"}))
	dir := t.TempDir()
	good, bad := dir+"/good", dir+"/bad"
	os.WriteFile(good, []byte("s3cret\n"), 0o600)
	os.WriteFile(bad, []byte("wrong\n"), 0o600)
	ctx := context.Background()

	cfg := testConfig(b.URL())
	cfg.Username, cfg.PasswordFile = "agent", good
	if err := newPublisher(t, cfg, newMemOutbox()).Check(ctx); err != nil {
		t.Errorf("good credentials: %v", err)
	}

	cfg.PasswordFile = bad
	err := newPublisher(t, cfg, newMemOutbox()).Check(ctx)
	// mochi answers a failed login with "not authorized" (mosquitto with
	// "bad user name or password", see the integration test)
	if !errors.Is(err, ErrNotAuthorized) || !Permanent(err) {
		t.Errorf("bad password: %v, want ErrNotAuthorized, permanent", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q shows the password", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	cfg = testConfig("tcp://" + closed)
	err = newPublisher(t, cfg, newMemOutbox()).Check(ctx)
	if !errors.Is(err, ErrUnreachable) || Permanent(err) {
		t.Errorf("closed port: %v, want ErrUnreachable, not permanent", err)
	}
	if err != nil && !strings.Contains(err.Error(), closed) {
		t.Errorf("error %q does not name the broker", err)
	}
}

// Bad credentials at run time: the publisher keeps retrying and reports the
// reason in Status.
func TestRunReportsRefusal(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0", broker.WithUsers(map[string]string{"agent": "s3cret"}))
	cfg := testConfig(b.URL())
	cfg.Username = "nobody"
	p := newPublisher(t, cfg, newMemOutbox())
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "error reported", func() bool { return p.Status().LastError != "" })
	if st := p.Status(); st.Connected || !strings.Contains(st.LastError, "not authorized") {
		t.Errorf("status %+v", st)
	}
}

// aheadOutbox reports a LastSeq that counts a record staged but not yet
// committed, as an outbox might.
type aheadOutbox struct {
	*memOutbox
	ahead atomic.Uint64
}

func (o *aheadOutbox) LastSeq() uint64 { return o.memOutbox.LastSeq() + o.ahead.Load() }

// A record inside the backlog range that is committed after the connect is
// still sent on this connection.
func TestBacklogRecordCommittedLate(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"#")
	ob := &aheadOutbox{memOutbox: newMemOutbox()}
	ob.ahead.Store(1)
	for i := 0; i < 5; i++ {
		ob.add("store")
	}
	p := newPublisher(t, testConfig(b.URL()), ob)
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "first five", func() bool { return ob.pendingCount() == 0 })
	ob.ahead.Store(0)
	late := ob.add("store") // seq 6: the backlog boundary at connect
	waitFor(t, 3*time.Second, "late record acked", func() bool { return ob.isAcked(late) })
	waitFor(t, 2*time.Second, "late record seen", func() bool { return len(rec.seqs()) == 6 })
	if st := p.Status(); st.Reconnects != 0 || st.BacklogRemaining != 0 {
		t.Errorf("status %+v: want no reconnect and nothing left", st)
	}
}

// A health source that hangs holds up neither publishing nor shutdown.
func TestHealthSourceHangs(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	hang := make(chan struct{})
	defer close(hang)
	ob := newMemOutbox()
	p := newPublisher(t, testConfig(b.URL()), ob, WithHealth(func() any { <-hang; return nil }))
	stop := runPublisher(t, p)
	seq := ob.add("store")
	waitFor(t, 3*time.Second, "record acked", func() bool { return ob.isAcked(seq) })
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v with a hung health source", d)
	}
}
