package agent

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
	"github.com/omo-edge/edge-agent/internal/testutil/nats"
	"github.com/omo-edge/edge-agent/internal/testutil/rabbitmq"
)

// compatBroker is one broker product under the compatibility matrix: a
// plain MQTT listener that can be stopped and restarted, and a listener
// that requires a client certificate.
type compatBroker struct {
	plain  outageBroker
	tlsURL func(t *testing.T) (string, *mosquitto.Certs)
	quirks brokerQuirks
}

// brokerQuirks are the behaviours docs/MQTT.md documents per broker; the
// semantics subtest checks them, so the notes stay true.
type brokerQuirks struct {
	// dotTopic is what a subscriber to p/# sees when p/a.b/c is
	// published: the same topic, a rewritten one, or "" when the broker
	// closes the publisher's connection instead.
	dotTopic string
	// share: a $share/<group>/<filter> subscription gets messages.
	share bool
	// redeliverAfter: an unacknowledged QoS 1 message is sent again this
	// long after its first delivery (NATS: its ack_wait) rather than when
	// the subscriber's session reconnects (0).
	redeliverAfter time.Duration
}

// natsAckWait shortens NATS's ack_wait (30 s by default) for the test.
const natsAckWait = 3 * time.Second

// The agent against each broker a customer runs, each started by the test
// on its own ports (skipped when not installed): windows delivered on
// PUBACK, an outage drained with nothing lost, the retained status and
// the Last Will, the plate-content command path, and mutual TLS. A broker
// is started once and shared by its subtests (RabbitMQ takes seconds to
// boot).
func TestAgentIntegrationBrokers(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	for _, bc := range []struct {
		name  string
		start func(t *testing.T) compatBroker
	}{
		{"mosquitto", func(t *testing.T) compatBroker {
			return compatBroker{
				plain:  mosquitto.Start(t, mosquitto.Options{Persistent: true}),
				quirks: brokerQuirks{dotTopic: "p/a.b/c", share: true},
				tlsURL: func(t *testing.T) (string, *mosquitto.Certs) {
					b := mosquitto.Start(t, mosquitto.Options{RequireClientCert: true})
					return b.URL(), b.Certs
				},
			}
		}},
		{"nats", func(t *testing.T) compatBroker {
			return compatBroker{
				plain: nats.Start(t, nats.Options{AckWait: natsAckWait}),
				// NATS 2.9 closes the connection on a '.'
				quirks: brokerQuirks{dotTopic: "", share: false, redeliverAfter: natsAckWait},
				tlsURL: func(t *testing.T) (string, *mosquitto.Certs) {
					b := nats.Start(t, nats.Options{RequireClientCert: true})
					return b.URL(), b.Certs
				},
			}
		}},
		{"rabbitmq", func(t *testing.T) compatBroker {
			b := rabbitmq.Start(t)
			return compatBroker{
				plain:  b,
				quirks: brokerQuirks{dotTopic: "p/a/b/c", share: false},
				tlsURL: func(*testing.T) (string, *mosquitto.Certs) { return b.TLSURL(), b.Certs },
			}
		}},
	} {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.start(t)
			t.Run("semantics", func(t *testing.T) { testBrokerQuirks(t, b.plain.URL(), b.quirks) })
			t.Run("status-and-will", func(t *testing.T) { testStatusAndWill(t, b.plain.URL()) })
			t.Run("plate-content", func(t *testing.T) { testPlateContent(t, b.plain.URL()) })
			t.Run("outage", func(t *testing.T) { testBrokerOutage(t, b.plain) })
			t.Run("tls", func(t *testing.T) {
				url, certs := b.tlsURL(t)
				testAgentTLS(t, url, certs)
			})
		})
	}
}

// testStatusAndWill runs the daemon as a real process: a client that
// subscribes later gets the retained "online"; after a SIGKILL the broker
// publishes the Last Will and a later client gets the retained
// "offline"; after a restart "online" again, and a clean SIGTERM leaves
// "offline" retained.
func testStatusAndWill(t *testing.T, url string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(simStoreYAML(url, dir, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	statusTopic := "edge-agent/test-store/test-pi/status"
	live := newStatusWatcher(t, url, statusTopic)

	d := startDaemon(t, path)
	waitRetainedState(t, url, statusTopic, "online")
	if !hasRetained(t, url, "edge-agent/test-store/test-pi/health") {
		t.Error("no retained health message for a late subscriber")
	}
	_ = d.Process.Signal(syscall.SIGKILL)
	_ = d.Wait()
	waitFor(t, "the Last Will on a live subscription", 10*time.Second, func() bool { return live.last() == "offline" })
	waitRetainedState(t, url, statusTopic, "offline")

	d = startDaemon(t, path)
	waitRetainedState(t, url, statusTopic, "online")
	_ = d.Process.Signal(syscall.SIGTERM)
	if err := d.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v", err)
	}
	waitRetainedState(t, url, statusTopic, "offline")
}

// startDaemon re-executes the test binary as the daemon (see TestMain).
func startDaemon(t *testing.T, configPath string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+configPath)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// statusWatcher keeps the last status state seen on a live subscription.
type statusWatcher struct {
	states chan string
	cur    string
}

func newStatusWatcher(t *testing.T, url, topic string) *statusWatcher {
	w := &statusWatcher{states: make(chan string, 64)}
	cl := mqttClient(t, url, "status-watch")
	tok := cl.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case w.states <- statusState(m.Payload()):
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return w
}

func (w *statusWatcher) last() string {
	for {
		select {
		case s := <-w.states:
			w.cur = s
		default:
			return w.cur
		}
	}
}

func statusState(payload []byte) string {
	var s struct{ State string }
	_ = json.Unmarshal(payload, &s)
	return s.State
}

// retained subscribes with a fresh client and returns the retained
// message on topic, if one arrives within a second.
func retained(t *testing.T, url, topic string) ([]byte, bool) {
	t.Helper()
	cl := mqttClient(t, url, "late-subscriber")
	defer cl.Disconnect(50)
	got := make(chan []byte, 1)
	tok := cl.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		if m.Retained() {
			select {
			case got <- append([]byte(nil), m.Payload()...):
			default:
			}
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	select {
	case b := <-got:
		return b, true
	case <-time.After(time.Second):
		return nil, false
	}
}

func hasRetained(t *testing.T, url, topic string) bool {
	_, ok := retained(t, url, topic)
	return ok
}

func waitRetainedState(t *testing.T, url, topic, want string) {
	t.Helper()
	waitFor(t, "retained status "+want, 20*time.Second, func() bool {
		b, ok := retained(t, url, topic)
		return ok && statusState(b) == want
	})
}

// mqttClient connects a clean-session client; it disconnects at the end
// of the test.
func mqttClient(t *testing.T, url, id string) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(id + "-" + strings.ReplaceAll(t.Name(), "/", "-")).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(50) })
	return cl
}

// testBrokerQuirks checks what differs between brokers: a second CONNECT
// with the same client id takes the session over (the first connection is
// closed, as MQTT 3.1.1 requires), a $share/ subscription gets messages,
// and what a '.' in a topic level does.
func testBrokerQuirks(t *testing.T, url string, q brokerQuirks) {
	lost := make(chan struct{}, 1)
	first := quirkClient(t, url, "takeover", func() { lost <- struct{}{} })
	quirkClient(t, url, "takeover", nil)
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Errorf("session takeover: the first connection is still open (connected %v)", first.IsConnected())
	}

	// one client per filter: paho routes a message to every handler whose
	// filter matches, so one client could not tell who the broker sent to
	got := make(chan string, 16)
	shared := make(chan string, 16)
	for f, ch := range map[string]chan string{"$share/g/p/shared": shared, "p/#": got} {
		tok := quirkClient(t, url, "sub-"+f[:1], nil).Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) { ch <- m.Topic() })
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	publish := func(topic string) (closed bool) {
		pub := quirkClient(t, url, "pub", nil)
		tok := pub.Publish(topic, 1, false, "x")
		return !tok.WaitTimeout(5*time.Second) || tok.Error() != nil
	}
	if publish("p/shared") {
		t.Fatal("publish p/shared failed")
	}
	if closed := publish("p/a.b/c"); closed != (q.dotTopic == "") {
		t.Errorf("a '.' in a topic level: connection closed %v, want %v", closed, !closed)
	}
	// every message on p/# arrives before a later one: a marker ends the wait
	if publish("p/end") {
		t.Fatal("publish p/end failed")
	}
	seen := map[string]int{}
	for timeout := time.After(5 * time.Second); seen["p/end"] == 0; {
		select {
		case tp := <-got:
			seen[tp]++
		case <-timeout:
			t.Fatalf("p/end never arrived; seen %v", seen)
		}
	}
	time.Sleep(200 * time.Millisecond)
	for len(got) > 0 {
		seen[<-got]++
	}
	if seen["p/shared"] != 1 {
		t.Errorf("p/shared arrived %d times on p/#, want 1", seen["p/shared"])
	}
	if got := len(shared); (got == 1) != q.share {
		t.Errorf("$share/g/p/shared got %d messages, want shared subscriptions supported: %v", got, q.share)
	}
	if q.dotTopic != "" && seen[q.dotTopic] != 1 {
		t.Errorf("p/a.b/c: want it delivered as %s; seen %v", q.dotTopic, seen)
	}
	testOfflineQueue(t, url)
	testRedelivery(t, url, q.redeliverAfter)
}

// testRedelivery: a QoS 1 message a subscriber received but never
// acknowledged is delivered again (flagged DUP): when its persistent
// session reconnects, or after the broker's ack wait (after > 0).
func testRedelivery(t *testing.T, url string, after time.Duration) {
	type delivery struct {
		payload string
		dup     bool
	}
	got := make(chan delivery, 16)
	handler := func(_ mqtt.Client, m mqtt.Message) { got <- delivery{string(m.Payload()), m.Duplicate()} }
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID("quirk-redeliver").SetCleanSession(false).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetAutoAckDisabled(true).
		SetDefaultPublishHandler(handler)
	sub := mqtt.NewClient(opts)
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	if tok := sub.Subscribe("r/#", 1, handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	pub := quirkClient(t, url, "redeliver-pub", nil)
	if tok := pub.Publish("r/x", 1, false, "unacked"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	wait := func(what string) delivery {
		select {
		case d := <-got:
			return d
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s", what)
		}
		return delivery{}
	}
	if d := wait("first delivery"); d.payload != "unacked" {
		t.Fatalf("first delivery %+v", d)
	}
	first := time.Now()
	sub.Disconnect(50) // without the PUBACK
	sub = mqtt.NewClient(opts)
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("reconnect: %v", tok.Error())
	}
	defer sub.Disconnect(50)
	reconnected := time.Now()
	d := wait("redelivery")
	at := time.Now()
	if d.payload != "unacked" || !d.dup {
		t.Fatalf("redelivery %+v: want the message again, flagged DUP", d)
	}
	switch {
	case after == 0 && at.Sub(reconnected) > 2*time.Second:
		t.Errorf("redelivered %v after the reconnect, want at once", at.Sub(reconnected))
	case after > 0 && (at.Sub(first) < after-500*time.Millisecond || at.Sub(first) > after+2*time.Second):
		t.Errorf("redelivered %v after the first delivery, want after the ack wait %v", at.Sub(first), after)
	}
}

// testOfflineQueue: a cloud subscriber with a persistent session that is
// away while the agent publishes gets every QoS 1 message when it comes
// back.
func testOfflineQueue(t *testing.T, url string) {
	const n = 200
	opts := func() *mqtt.ClientOptions {
		return mqtt.NewClientOptions().AddBroker(url).SetClientID("quirk-offline").SetCleanSession(false).
			SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	}
	got := make(chan string, 2*n)
	handler := func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) }
	sub := mqtt.NewClient(opts())
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	if tok := sub.Subscribe("q/#", 1, handler); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	sub.Disconnect(50)
	pub := quirkClient(t, url, "offline-pub", nil)
	for i := 0; i < n; i++ {
		if tok := pub.Publish("q/x", 1, false, strconv.Itoa(i)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	o := opts()
	o.SetDefaultPublishHandler(handler) // the session's subscription, resumed
	sub = mqtt.NewClient(o)
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("reconnect: %v", tok.Error())
	}
	defer sub.Disconnect(50)
	seen := map[string]bool{}
	for timeout := time.After(10 * time.Second); len(seen) < n; {
		select {
		case m := <-got:
			seen[m] = true
		case <-timeout:
			t.Fatalf("a persistent subscriber got %d of the %d QoS 1 messages published while it was away", len(seen), n)
		}
	}
}

func quirkClient(t *testing.T, url, id string, onLost func()) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("quirk-" + id).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	if onLost != nil {
		o.SetConnectionLostHandler(func(mqtt.Client, error) { onLost() })
	}
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(50) })
	return cl
}

// commandAnswered sends a command the agent does not know until its error
// reply comes: the command subscription is in place (a command sent
// before it is lost: the agent's session is clean).
func commandAnswered(t *testing.T, url, base string) {
	t.Helper()
	cl := mqttClient(t, url, "ping")
	got := make(chan []byte, 4)
	tok := cl.Subscribe(base+"reply/ping", 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case got <- m.Payload():
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if tok := cl.Publish(base+"cmd/ping", 1, false, "{}"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish cmd/ping: %v", tok.Error())
		}
		select {
		case b := <-got:
			if !strings.Contains(string(b), "unknown command") {
				t.Fatalf("reply to cmd/ping: %s", b)
			}
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Fatal("no reply to cmd/ping in 10s: no command subscription")
}
