package agent

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/broker"
	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// The simulated store publishes windows through the embedded broker, and
// the status socket reports it.
func TestAgentPublishesSimulatedStore(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := collect(t, b.URL(), "cloud")
	dir := t.TempDir()
	cfg := loadConfig(t, simStoreYAML(b.URL(), dir, ""))
	_, stop := runAgent(t, cfg)

	counted := func(field string) bool {
		for _, m := range c.snapshot() {
			if m.Type == "sensor_window" && strings.Contains(m.Body, `"`+field+`":`) && !strings.Contains(m.Body, `"`+field+`":0`) {
				return true
			}
		}
		return false
	}
	waitFor(t, "a window with passers-by and one with entries or exits", 30*time.Second, func() bool {
		return counted("passersby") && (counted("entries") || counted("exits"))
	})
	r, err := QueryStatus(cfg.StatusSocket, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Broker.Connected || len(r.Sensors) != 2 || r.Sensors[0].State != "ok" || r.Sensors[0].Readings == 0 {
		t.Fatalf("status %+v", r)
	}
	stop()
	if _, err := QueryStatus(cfg.StatusSocket, time.Second); err == nil {
		t.Fatal("status answered after the daemon stopped")
	}
	left, st := outboxLeft(t, dir)
	checkNothingLost(t, c.snapshot(), left, st, time.Second)
}

// (a) The broker goes away for a while and comes back: every window is
// delivered (or still buffered), by id, none missing, backlog flagged
// historical and in order.
func TestAgentIntegrationBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	testBrokerOutage(t, mosquitto.Start(t, mosquitto.Options{Persistent: true}))
}

// outageBroker is a broker a test can take down and bring back on the
// same port.
type outageBroker interface {
	URL() string
	Stop()
	Restart()
}

func testBrokerOutage(t *testing.T, mq outageBroker) {
	c := collect(t, mq.URL(), "cloud-outage")
	dir := t.TempDir()
	cfg := loadConfig(t, simStoreYAML(mq.URL(), dir, ""))
	a, stop := runAgent(t, cfg)

	time.Sleep(3 * time.Second)
	// a retained message (as the status of an agent that died) outlives
	// the broker's restart
	const probeTopic = "edge-agent/test-store/retained-probe"
	if tok := mqttClient(t, mq.URL(), "retain").Publish(probeTopic, 1, true, "kept"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("retained publish: %v", tok.Error())
	}
	mq.Stop()
	time.Sleep(5 * time.Second)
	if r := a.Report(); r.Broker.Connected || r.Outbox.Depth == 0 {
		t.Fatalf("during the outage: connected %v, depth %d", r.Broker.Connected, r.Outbox.Depth)
	}
	mq.Restart()
	if b, ok := retained(t, mq.URL(), probeTopic); !ok || string(b) != "kept" {
		t.Errorf("retained message after the broker's restart: %q, %v", b, ok)
	}
	waitFor(t, "the backlog to drain", 30*time.Second, func() bool {
		r := a.Report()
		return r.Broker.Connected && r.Outbox.Depth == 0
	})
	time.Sleep(1500 * time.Millisecond) // a couple of live windows after the drain
	// the command subscription came back with the connection
	commandAnswered(t, mq.URL(), "edge-agent/test-store/test-pi/")
	stop()
	got := c.snapshot()
	left, st := outboxLeft(t, dir)
	checkNothingLost(t, got, left, st, time.Second)

	var hist int
	last := map[bool]map[string]uint64{true: {}, false: {}}
	for _, m := range got {
		if m.Historical {
			hist++
		}
		lane := last[m.Historical]
		if m.Seq < lane[m.Topic] {
			t.Fatalf("%s: seq %d arrived after %d in the same lane (historical=%v)", m.Topic, m.Seq, lane[m.Topic], m.Historical)
		}
		lane[m.Topic] = m.Seq
	}
	if hist == 0 {
		t.Fatal("no message of the backlog was flagged historical")
	}
	t.Logf("delivered %d messages (%d historical), last seq %d, %d left in the outbox", len(got), hist, st.LastSeq, len(left))
}

// (b) The daemon is SIGKILLed at random moments while counting and
// publishing: no committed window is lost, and re-sends carry the same id
// and content.
func TestAgentIntegrationSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	mq := mosquitto.Start(t, mosquitto.Options{Persistent: true})
	c := collect(t, mq.URL(), "cloud-kill")
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(simStoreYAML(mq.URL(), dir, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd { return startChild(t, path) }
	rng := rand.New(rand.NewPCG(1, 2))
	const kills = 22
	for i := 0; i < kills; i++ {
		cmd := start()
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	cmd := start()
	waitFor(t, "the last daemon to drain", 30*time.Second, func() bool {
		r, err := QueryStatus(filepath.Join(dir, "status.sock"), time.Second)
		return err == nil && r.Broker.Connected && r.Outbox.Depth == 0 && r.Outbox.LastSeq > 0
	})
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let the collector take the last PUBLISHes
	got := c.snapshot()
	left, st := outboxLeft(t, dir)
	checkNothingLost(t, got, left, st, 0)
	t.Logf("%d kills: %d messages delivered, last seq %d, %d left", kills, len(got), st.LastSeq, len(left))
}

// (c) With the broker down, the outbox reaches its bound: the oldest
// windows are dropped and counted, the agent keeps running, and what is
// left is delivered when the broker comes.
func TestAgentIntegrationOutboxBound(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	port := freePort(t)
	url := "tcp://127.0.0.1:" + port
	dir := t.TempDir()
	// The cloud's persistent session exists before the outage, so what the
	// agent sends after the broker returns is queued for it even when the
	// agent reconnects first (its delay is drawn from the whole window).
	mq := mosquitto.Start(t, mosquitto.Options{Port: atoi(t, port), Persistent: true})
	c := collect(t, mq.URL(), "cloud-bound")
	time.Sleep(300 * time.Millisecond) // its subscription is made on connect
	mq.Stop()
	extra := "  max_bytes: 16KiB\n"
	cfg := loadConfig(t, strings.Replace(simStoreYAML(url, dir, ""), "buffer:\n", "buffer:\n"+extra, 1))
	a, stop := runAgent(t, cfg)
	waitFor(t, "the outbox to drop its oldest windows", 60*time.Second, func() bool { return a.Report().Outbox.Dropped > 5 })
	r := a.Report()
	if r.Outbox.Bytes > 16<<10 {
		t.Fatalf("outbox holds %d bytes, over its 16KiB bound", r.Outbox.Bytes)
	}
	mq.Restart()
	waitFor(t, "the rest to drain", 30*time.Second, func() bool {
		r := a.Report()
		return r.Broker.Connected && r.Outbox.Depth == 0
	})
	time.Sleep(500 * time.Millisecond)
	stop()
	got := c.snapshot()
	left, st := outboxLeft(t, dir)
	if st.Dropped == 0 {
		t.Fatal("dropped counter not persisted")
	}
	for _, m := range append(got, left...) {
		if m.Seq <= st.Dropped {
			t.Fatalf("seq %d was delivered but counted dropped (dropped %d): the oldest must go first", m.Seq, st.Dropped)
		}
	}
	checkNothingLost(t, got, left, st, 0)
	t.Logf("dropped %d oldest of %d; delivered %d", st.Dropped, st.LastSeq, len(got))
}

// (d) A corrupt outbox file at start is moved aside and the agent runs.
func TestAgentIntegrationCorruptOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	mq := mosquitto.Start(t, mosquitto.Options{})
	c := collect(t, mq.URL(), "cloud-corrupt")
	dir := t.TempDir()
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(filepath.Join(dir, "outbox.db"), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, simStoreYAML(mq.URL(), dir, ""))
	_, stop := runAgent(t, cfg)
	waitFor(t, "a window after the corrupt start", 20*time.Second, func() bool { return len(c.snapshot()) > 3 })
	stop()
	aside, _ := filepath.Glob(filepath.Join(dir, "outbox.db.corrupt-*"))
	if len(aside) != 1 {
		t.Fatalf("corrupt file not moved aside: %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); len(b) != len(garbage) {
		t.Fatal("the moved-aside file is not the original")
	}
}

// (e) Mutual TLS: the agent publishes with its client certificate, and a
// certificate the broker does not trust is a permanent, clear error.
func TestAgentIntegrationTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	mq := mosquitto.Start(t, mosquitto.Options{RequireClientCert: true})
	testAgentTLS(t, mq.URL(), mq.Certs)
}

// testAgentTLS: url is a broker that requires a client certificate signed
// by cs's CA.
func testAgentTLS(t *testing.T, url string, cs *mosquitto.Certs) {
	dir := t.TempDir()
	tls := func(cert, key string) string {
		return "mqtt:\n  broker: " + url + "\n  tls: {ca_file: " + cs.CAFile + ", cert_file: " + cert + ", key_file: " + key + "}\n"
	}
	yaml := simStoreYAML(url, dir, "")
	yaml = strings.Replace(yaml, "mqtt:\n  broker: \""+url+"\"\n", tls(cs.ClientCertFile, cs.ClientKeyFile), 1)
	cfg := loadConfig(t, yaml)
	a, stop := runAgent(t, cfg)
	waitFor(t, "windows acked over mutual TLS", 20*time.Second, func() bool { return a.Report().Broker.Acked > 3 })
	stop()

	bad := strings.Replace(simStoreYAML(url, t.TempDir(), ""), "mqtt:\n  broker: \""+url+"\"\n", tls(cs.UntrustedCertFile, cs.UntrustedKeyFile), 1)
	cfg = loadConfig(t, bad)
	ag, err := New(cfg, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	err = ag.Check(t.Context())
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "tls") {
		t.Fatalf("untrusted client certificate: %v", err)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
