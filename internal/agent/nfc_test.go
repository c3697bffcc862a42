package agent

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/drivers/nfc/ndef"
	"github.com/omo-edge/edge-agent/drivers/nfc/ntag/ntagtest"
	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
	"github.com/omo-edge/edge-agent/drivers/nfc/pn532/pn532test"
	"github.com/omo-edge/edge-agent/internal/broker"
	"github.com/omo-edge/edge-agent/internal/config"
	"github.com/omo-edge/edge-agent/internal/plate"
	"github.com/omo-edge/edge-agent/internal/sensor"
	"github.com/omo-edge/edge-agent/internal/testutil/logbuf"
	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

const testPlateSecret = "plate secret of the test store, 32+"

// nfcStoreYAML is a store with one plate and one reader, both simulated
// (the tests put their own emulators in with Options.OpenSource).
func nfcStoreYAML(brokerURL, dir string) string {
	secret := filepath.Join(dir, "plate.secret")
	pseud := filepath.Join(dir, "pseudonym.secret")
	_ = os.WriteFile(secret, []byte(testPlateSecret+"\n"), 0o600)
	_ = os.WriteFile(pseud, []byte("pseudonym secret of the test store\n"), 0o600)
	return fmt.Sprintf(`store_id: test-store
agent_id: test-pi
state_dir: %q
status_socket: %q
log_level: debug
window: 1s
timezone: UTC
clock: {require_sync: false}
mqtt:
  broker: %q
  backoff_min: 100ms
  backoff_max: 500ms
  connect_timeout: 2s
buffer:
  flush_interval: 200ms
nfc:
  plate_secret_file: %q
  pseudonym_secret_file: %q
  base_url: https://c.example.com/t
sensors:
  - id: plate-1
    kind: nfc-plate
    role: plate
    params: {merge_ms: "200"}
    simulate: {seed: 1, per_minute: 1}
  - id: reader
    kind: nfc-reader
    role: checkin
    simulate: {seed: 2, per_minute: 1}
`, dir, filepath.Join(dir, "status.sock"), brokerURL, secret, pseud)
}

// nfcLogBuf is a goroutine-safe log sink.
type nfcLogBuf = logbuf.Buffer

// nfcRig is an agent whose plate and reader are emulators the test holds.
type nfcRig struct {
	a    *Agent
	tag  *ntagtest.Emulator
	pn   *pn532test.Emulator
	logs *nfcLogBuf
	stop func()
}

func startNFCRig(t *testing.T, cfg *config.Config) *nfcRig {
	t.Helper()
	r := &nfcRig{tag: ntagtest.New(nil), pn: pn532test.New(nil), logs: &nfcLogBuf{}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var ag *Agent
	open := func(i int, sc config.SensorConfig, env *SourceEnv) (Source, error) {
		switch sensor.Kind(sc.Kind) {
		case sensor.KindNFCPlate:
			return ag.newSimPlateSource(r.tag, sc, env)
		case sensor.KindNFCReader:
			return ag.newSimReaderSource(r.pn, sc, env)
		}
		return openSource(i, sc, env)
	}
	ag, err := New(cfg, log, Options{Version: "test", OpenSource: open})
	if err != nil {
		t.Fatal(err)
	}
	r.a = ag
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx) }()
	var once gosync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent Run: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", r.logs.String())
		}
	})
	return r
}

// tagURI peeks at the URI in the tag's EEPROM without a field (as a test
// probe on the chip, not a phone).
func tagURI(emu *ntagtest.Emulator) string {
	var mem []byte
	for b := byte(1); b < 0x38; b++ {
		blk := emu.Block(b)
		mem = append(mem, blk[:]...)
	}
	msg, err := ndef.UnwrapTLV(mem)
	if err != nil {
		return ""
	}
	u, _ := plate.DecodeURI(msg)
	return u
}

// phoneTap is a phone on the plate: it reads the tag over RF (retrying
// while the host holds the memory) and leaves.
func phoneTap(t *testing.T, emu *ntagtest.Emulator) string {
	t.Helper()
	emu.PhoneTap()
	defer emu.PhoneLeave()
	deadline := time.Now().Add(2 * time.Second)
	for {
		msg, err := emu.RFReadNDEF()
		if err == nil {
			u, err := plate.DecodeURI(msg)
			if err != nil {
				t.Fatalf("phone: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // the phone stays a moment
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("phone could not read the tag: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// cloud is an MQTT client standing for the cloud: it sends commands and
// keeps every message the agent publishes, raw.
type nfcCloud struct {
	cl   mqtt.Client
	base string
	mu   gosync.Mutex
	msgs []mqtt.Message
}

func newNFCCloud(t *testing.T, url string) *nfcCloud {
	t.Helper()
	c := &nfcCloud{base: "edge-agent/test-store/test-pi/"}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("cloud-nfc").SetOrderMatters(false)
	c.cl = mqtt.NewClient(o)
	if tok := c.cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("cloud connect: %v", tok.Error())
	}
	tok := c.cl.Subscribe("edge-agent/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("cloud subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.cl.Disconnect(100) })
	return c
}

func (c *nfcCloud) all() []mqtt.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]mqtt.Message(nil), c.msgs...)
}

// command sends cmd/plate-content and waits for the reply carrying the
// request id (or any new reply when the payload has none readable).
func (c *nfcCloud) command(t *testing.T, payload string) plate.Reply {
	t.Helper()
	seen := 0
	for _, m := range c.all() {
		if m.Topic() == c.base+"reply/plate-content" {
			seen++
		}
	}
	if tok := c.cl.Publish(c.base+"cmd/plate-content", 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish command: %v", tok.Error())
	}
	var r plate.Reply
	waitFor(t, "reply to "+payload, 10*time.Second, func() bool {
		n := 0
		for _, m := range c.all() {
			if m.Topic() != c.base+"reply/plate-content" {
				continue
			}
			if n++; n > seen {
				if err := json.Unmarshal(m.Payload(), &r); err != nil {
					t.Fatalf("reply %s: %v", m.Payload(), err)
				}
				return true
			}
		}
		return false
	})
	return r
}

func TestAgentPlateContentOverMQTT(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	testPlateContent(t, b.URL())
}

func TestAgentIntegrationPlateContentMosquitto(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	mq := mosquitto.Start(t, mosquitto.Options{})
	testPlateContent(t, mq.URL())
}

// testPlateContent: content pushed from the cloud reaches the tag's memory;
// after a tap the next one-time URL is there and verifies; forged and
// replayed coupons fail; malformed and unauthorized commands get an error
// reply and change nothing.
func testPlateContent(t *testing.T, url string) {
	dir := t.TempDir()
	cl := newNFCCloud(t, url)
	cfg := loadConfig(t, nfcStoreYAML(url, dir))
	r := startNFCRig(t, cfg)
	secret := []byte(testPlateSecret)

	waitFor(t, "the config's URL on the tag", 10*time.Second, func() bool {
		return strings.HasPrefix(tagURI(r.tag), "https://c.example.com/t?p=plate-1&c=")
	})
	waitFor(t, "the agent online", 10*time.Second, func() bool { return r.a.Report().Broker.Connected })
	commandAnswered(t, url, cl.base) // the command subscription follows the CONNACK

	rep := r.cloud(t, cl, `{"v":1,"request_id":"r-1","plate":"plate-1","base_url":"https://cloud.example.com/c"}`)
	if !rep.OK || rep.RequestID != "r-1" || rep.Plate != "plate-1" || rep.Applied == nil || !*rep.Applied {
		t.Fatalf("reply %+v", rep)
	}
	// Read back through the tag's RF side, as a phone does.
	u1 := phoneTap(t, r.tag)
	c1, err := plateurl.Verify(u1, secret)
	if err != nil || !strings.HasPrefix(u1, "https://cloud.example.com/c?") || c1.PlateID != "plate-1" {
		t.Fatalf("phone read %s: %v", u1, err)
	}
	waitFor(t, "the next URL after the tap", 5*time.Second, func() bool { return hasCounter(tagURI(r.tag), secret, c1.Counter+1) })
	u2 := phoneTap(t, r.tag)
	c2, err := plateurl.Verify(u2, secret)
	if err != nil || c2.Counter != c1.Counter+1 {
		t.Fatalf("after the tap: %s (%v), want counter %d", u2, err, c1.Counter+1)
	}
	// The cloud's view: each coupon once; forged ones never.
	v, err := plateurl.NewVerifier(secret, plateurl.NewMemoryRedeemed())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Redeem(u1); err != nil {
		t.Fatalf("first redemption of %s: %v", u1, err)
	}
	if _, err := v.Redeem(u1); !errors.Is(err, plateurl.ErrReplayed) {
		t.Fatalf("replayed coupon: %v, want ErrReplayed", err)
	}
	forgedCounter := strings.Replace(u2, fmt.Sprintf("c=%d", c2.Counter), fmt.Sprintf("c=%d", c2.Counter+1), 1)
	m := u2[strings.LastIndex(u2, "m=")+2:]
	forgedMAC := strings.Replace(u2, "m="+m, "m="+flipChar(m), 1)
	for _, f := range []string{forgedCounter, forgedMAC} {
		if _, err := v.Redeem(f); !errors.Is(err, plateurl.ErrBadMAC) {
			t.Fatalf("forged %s: %v, want ErrBadMAC", f, err)
		}
	}

	// Refused commands: an error reply each, nothing changes.
	waitFor(t, "the next URL after the last tap", 5*time.Second, func() bool { return hasCounter(tagURI(r.tag), secret, c2.Counter+1) })
	onTag := tagURI(r.tag)
	statePath := filepath.Join(dir, "plates", "plate-1.json")
	stateBefore, _ := os.ReadFile(statePath)
	writes := r.tag.Stats().BlockWrites
	for _, c := range []struct{ payload, want string }{
		{`{"v":1,"request_id":"r-2","plate":"plate-1","base_url":"ftp://cloud.example.com/c"}`, "https://"},
		{`not json at all`, "want a JSON object"},
		{`{"v":1,"request_id":"r-3","plate":"plate-1","uri":"https://x.example","admin":true}`, `unknown key "admin"`},
		{`{"v":1,"request_id":"r-4","plate":"plate-9","uri":"https://x.example"}`, `unknown plate "plate-9"`},
		{`{"v":1,"request_id":"r-5","store":"other-store","plate":"plate-1","uri":"https://x.example"}`, "unauthorized"},
		{`{"v":1,"request_id":"r-6","plate":"plate-1","uri":"https://x.example/` + strings.Repeat("y", 880) + `"}`, "does not fit"},
	} {
		rep := r.cloud(t, cl, c.payload)
		if rep.OK || !strings.Contains(rep.Error, c.want) {
			t.Errorf("%.60s: reply %+v, want an error containing %q", c.payload, rep, c.want)
		}
	}
	stateAfter, _ := os.ReadFile(statePath)
	if tagURI(r.tag) != onTag || r.tag.Stats().BlockWrites != writes || !bytes.Equal(stateBefore, stateAfter) {
		t.Fatal("a refused command changed the tag or the plate's state")
	}
	if !strings.Contains(string(stateAfter), "https://cloud.example.com/c") {
		t.Fatalf("state file does not hold the cloud's content: %s", stateAfter)
	}
	// The daemon is still fine.
	if st := r.a.Report(); !st.Broker.Connected || st.Sensors[0].State != "ok" {
		t.Fatalf("status after the bad commands: %+v", st)
	}
	// Persisted: after a restart the plate keeps the cloud's base URL.
	r.stop()
	r2 := startNFCRig(t, loadConfig(t, nfcStoreYAML(url, dir)))
	waitFor(t, "the restarted agent's URL on a new tag", 10*time.Second, func() bool {
		return strings.HasPrefix(tagURI(r2.tag), "https://cloud.example.com/c?p=plate-1&c=")
	})
	c3, err := plateurl.Verify(tagURI(r2.tag), secret)
	if err != nil || c3.Counter <= c2.Counter+1 {
		t.Fatalf("after restart: counter %d (%v), want above %d", c3.Counter, err, c2.Counter+1)
	}
}

func (r *nfcRig) cloud(t *testing.T, c *nfcCloud, payload string) plate.Reply {
	t.Helper()
	return c.command(t, payload)
}

// hasCounter reports whether u is a valid coupon URL with counter n.
func hasCounter(u string, secret []byte, n uint64) bool {
	c, err := plateurl.Verify(u, secret)
	return err == nil && c.Counter == n
}

func flipChar(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// Raw UIDs and tokens never reach MQTT or the logs (debug level): only
// their pseudonyms are counted.
func TestAgentCheckinsNeverLeakRawTokens(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	cl := newNFCCloud(t, b.URL())
	r := startNFCRig(t, loadConfig(t, nfcStoreYAML(b.URL(), dir)))

	uid := []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6}
	token := []byte("member-7734-secret-token")
	aid := (*config.NFCSensorConfig)(nil).AIDBytes()
	checkins := func() int64 {
		var n int64
		for _, m := range cl.all() {
			if !strings.HasSuffix(m.Topic(), "/agg/reader") {
				continue
			}
			var w struct{ Checkins int64 }
			if json.Unmarshal(m.Payload(), &w) == nil {
				n += w.Checkins
			}
		}
		return n
	}
	waitFor(t, "the reader polling", 10*time.Second, func() bool { return r.a.Report().Sensors[1].State == "ok" })
	for range 2 { // each member twice: one check-in each within repeat_ms
		if err := r.pn.PresentCard(uid); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if err := r.pn.PresentPhoneHCE(aid, token); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		r.pn.RemoveCard()
		time.Sleep(200 * time.Millisecond)
	}
	// A phone without the store app: its random UID is no member.
	if err := r.pn.PresentPhoneHCE([]byte{0xA0, 0, 0, 0, 0x99}, []byte("other app")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	r.pn.RemoveCard()
	waitFor(t, "two check-ins published", 10*time.Second, func() bool { return checkins() >= 2 })
	time.Sleep(1500 * time.Millisecond) // more windows: nothing else may come
	if n := checkins(); n != 2 {
		t.Fatalf("%d check-ins published, want 2 (a card and a phone, each presented twice)", n)
	}
	if rd := r.a.Report().Sensors[1].Readings; rd < 4 {
		t.Fatalf("only %d reader readings", rd)
	}
	r.stop()
	var all bytes.Buffer
	for _, m := range cl.all() {
		all.WriteString(m.Topic())
		all.Write(m.Payload())
	}
	all.WriteString(r.logs.String())
	for _, raw := range [][]byte{uid, token} {
		for _, form := range []string{string(raw), hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)),
			fmt.Sprintf("% x", raw), fmt.Sprintf("%v", raw), fmt.Sprintf("% X", raw)} {
			if strings.Contains(all.String(), form) {
				t.Fatalf("raw value %q found in MQTT messages or logs", form)
			}
		}
	}
	if !strings.Contains(r.logs.String(), "level=") {
		t.Fatal("no logs captured: the assertion above proves nothing")
	}
}

// The simulated plate and reader (the demo's) run through the real
// drivers on the emulators, over I²C and SPI, and deliver readings.
func TestAgentSimulatedNFC(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	y := strings.Replace(nfcStoreYAML(b.URL(), dir), "simulate: {seed: 1, per_minute: 1}", "nfc: {fd_pin: SIM_FD}\n    simulate: {seed: 1, per_minute: 60}", 1)
	y = strings.Replace(y, "simulate: {seed: 2, per_minute: 1}", "nfc: {spi: SIM, irq_pin: SIM_IRQ}\n    simulate: {seed: 2, per_minute: 40}", 1)
	// Secrets generated in state_dir for simulated sensors.
	y = strings.Replace(y, "  plate_secret_file:", "  # plate_secret_file:", 1)
	y = strings.Replace(y, "  pseudonym_secret_file:", "  # pseudonym_secret_file:", 1)
	cfg := loadConfig(t, y)
	_, stop := runAgent(t, cfg)
	waitFor(t, "readings from the simulated plate and reader", 30*time.Second, func() bool {
		rp, err := QueryStatus(cfg.StatusSocket, time.Second)
		return err == nil && rp.Sensors[0].Readings > 2 && rp.Sensors[1].Readings > 0 &&
			rp.Sensors[0].State == "ok" && rp.Sensors[1].State == "ok"
	})
	stop()
	for _, f := range []string{"plate.secret", "pseudonym.secret", "plates/plate-1.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
