package sync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"strings"
	gosync "sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// cloudSubscriber stands for the cloud side: a persistent QoS 1 session on
// the agent's topics, so the broker queues for it across restarts.
type cloudSubscriber struct {
	mu   gosync.Mutex
	msgs []received
	c    paho.Client
}

func subscribe(t *testing.T, b *mosquitto.Broker, filter string) *cloudSubscriber {
	t.Helper()
	var tc *tls.Config
	if b.Certs != nil {
		tc = clientTLS(t, b.Certs.CAFile, b.Certs.ClientCertFile, b.Certs.ClientKeyFile)
	}
	return subscribeURL(t, b.URL(), tc, filter)
}

func subscribeURL(t *testing.T, url string, tc *tls.Config, filter string) *cloudSubscriber {
	t.Helper()
	s := &cloudSubscriber{}
	o := paho.NewClientOptions().AddBroker(url).SetClientID("cloud").
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(100 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(50 * time.Millisecond).SetProtocolVersion(4).
		SetOrderMatters(true)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	handler := func(_ paho.Client, m paho.Message) {
		rc := received{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), At: time.Now()}
		var v struct {
			ID   string `json:"id"`
			Seq  uint64 `json:"seq"`
			Hist bool   `json:"historical"`
		}
		if json.Unmarshal(m.Payload(), &v) == nil {
			rc.ID, rc.Seq, rc.Hist = v.ID, v.Seq, v.Hist
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, rc)
		s.mu.Unlock()
	}
	o.SetOnConnectHandler(func(c paho.Client) { c.Subscribe(filter, 1, handler) })
	s.c = paho.NewClient(o)
	if tok := s.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	t.Cleanup(func() { s.c.Disconnect(50) })
	time.Sleep(100 * time.Millisecond) // the SUBACK
	return s
}

func (s *cloudSubscriber) all() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func clientTLS(t *testing.T, ca, cert, key string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{kp}}
}

// (a) The broker goes away for a while under a steady flow of records and
// comes back: every record arrives (checked by id), and what was stored
// during the outage drains in seq order, flagged historical.
func TestPublisherIntegrationOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	b := mosquitto.Start(t, mosquitto.Options{Persistent: true})
	cloud := subscribe(t, b, "edge-agent/s1/a1/agg/#")
	ob := newMemOutbox()
	cfg := testConfig(b.URL())
	cfg.BackoffMin, cfg.BackoffMax = 50*time.Millisecond, 200*time.Millisecond
	cfg.BacklogRate = 2000
	cfg.BatchSize = 100
	p := newPublisher(t, cfg, ob)
	runPublisher(t, p)

	// a record every 2 ms: ~500 before, ~750 during, ~500 after the outage
	stopFlow := recordFlow(ob, 2*time.Millisecond)
	time.Sleep(time.Second)
	b.Stop()
	outageStart := ob.LastSeq()
	time.Sleep(1500 * time.Millisecond)
	if p.Status().Connected {
		t.Error("publisher still connected during the outage")
	}
	restartSeq := ob.LastSeq()
	b.Restart()
	time.Sleep(time.Second)
	stopFlow()
	total := ob.LastSeq()
	waitFor(t, 20*time.Second, "outbox drained", func() bool { return ob.pendingCount() == 0 })
	waitFor(t, 10*time.Second, "cloud has every record", func() bool {
		seen := map[string]bool{}
		for _, m := range cloud.all() {
			seen[m.ID] = true
		}
		return len(seen) >= int(total)
	})

	seen := map[string]int{}
	for _, m := range cloud.all() {
		seen[m.ID]++
	}
	for seq := uint64(1); seq <= total; seq++ {
		id := string(recordPayload(seq)[7:])
		id = id[:strings.IndexByte(id, '"')]
		if seen[id] == 0 {
			t.Fatalf("record %s missing", id)
		}
	}
	// after the restart: the backlog (historical) in strictly rising seq
	var last uint64
	var hist, dups int
	for _, m := range cloud.all() {
		if !m.Hist {
			continue
		}
		hist++
		if m.Seq <= last {
			t.Fatalf("historical seq %d after %d", m.Seq, last)
		}
		last = m.Seq
	}
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	st := p.Status()
	// everything committed while the broker was down is backlog
	if st.Reconnects != 1 || hist < int(restartSeq-outageStart) {
		t.Errorf("reconnects %d, historical %d (outage seqs %d..%d): want 1 reconnect and every outage record flagged",
			st.Reconnects, hist, outageStart, restartSeq)
	}
	t.Logf("%d records, %d during the outage, %d delivered as backlog, %d delivered twice (in flight at the stop)",
		total, restartSeq-outageStart, hist, dups)
}

// (e) Mutual TLS as AWS IoT Core requires: the client certificate works;
// an untrusted client certificate or an untrusted broker is a clear,
// permanent error.
func TestPublisherIntegrationTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	b := mosquitto.Start(t, mosquitto.Options{RequireClientCert: true})
	cloud := subscribe(t, b, "edge-agent/s1/a1/#")
	ob := newMemOutbox()
	cfg := testConfig(b.URL())
	cfg.TLS = TLSConfig{CAFile: b.Certs.CAFile, CertFile: b.Certs.ClientCertFile, KeyFile: b.Certs.ClientKeyFile}
	p := newPublisher(t, cfg, ob)
	ctx := context.Background()
	if err := p.Check(ctx); err != nil {
		t.Fatalf("Check with a good client certificate: %v", err)
	}
	runPublisher(t, p)
	for i := 0; i < 20; i++ {
		ob.add("store")
	}
	waitFor(t, 5*time.Second, "records over TLS", func() bool { return ob.pendingCount() == 0 })
	waitFor(t, 5*time.Second, "cloud got them", func() bool { return len(cloud.all()) >= 21 }) // + status

	for _, c := range []struct {
		name     string
		tls      TLSConfig
		wantHint string
	}{
		{"untrusted client certificate", TLSConfig{CAFile: b.Certs.CAFile, CertFile: b.Certs.UntrustedCertFile, KeyFile: b.Certs.UntrustedKeyFile}, "client certificate"},
		{"no client certificate", TLSConfig{CAFile: b.Certs.CAFile}, "client certificate"},
		{"broker not trusted", TLSConfig{CertFile: b.Certs.ClientCertFile, KeyFile: b.Certs.ClientKeyFile}, "tls.ca_file"},
	} {
		cfg := testConfig(b.URL())
		cfg.ClientID = "check-" + strings.ReplaceAll(c.name, " ", "-")
		cfg.TLS = c.tls
		err := newPublisher(t, cfg, newMemOutbox()).Check(ctx)
		t.Logf("%s: %v", c.name, err)
		if err == nil {
			t.Errorf("%s: connected", c.name)
			continue
		}
		if !errors.Is(err, ErrTLS) || !Permanent(err) || !strings.Contains(err.Error(), c.wantHint) {
			t.Errorf("%s: %v: want a permanent TLS error mentioning %q", c.name, err, c.wantHint)
		}
	}
}

func TestPublisherIntegrationBadPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	b := mosquitto.Start(t, mosquitto.Options{Users: map[string]string{"agent": "s3cret"}})
	pw := t.TempDir() + "/pw"
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	cfg := testConfig(b.URL())
	cfg.Username, cfg.PasswordFile = "agent", pw
	if err := newPublisher(t, cfg, newMemOutbox()).Check(context.Background()); err != nil {
		t.Fatalf("good password: %v", err)
	}
	os.WriteFile(pw, []byte("guess\n"), 0o600)
	err := newPublisher(t, cfg, newMemOutbox()).Check(context.Background())
	// mosquitto 2 answers a wrong password with "not authorised" (code 5)
	if !(errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrNotAuthorized)) || !Permanent(err) ||
		strings.Contains(err.Error(), "guess") || !strings.Contains(err.Error(), "password_file") {
		t.Errorf("bad password: %v, want a permanent refusal naming password_file, not showing the password", err)
	}
}

// recordFlow commits a record every interval until stop returns.
func recordFlow(ob *memOutbox, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				ob.add("agg/door")
			}
		}
	}()
	return func() { cancel(); <-done }
}
