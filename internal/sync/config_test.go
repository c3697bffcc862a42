package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
	"go.yaml.in/yaml/v3"
)

func validConfig() Config {
	c := DefaultConfig()
	c.Broker = "ssl://broker.example.com:8883"
	c.StoreID, c.AgentID = "store-7", "pi-1"
	return c
}

func TestValidateNamesTheField(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Broker = "" }, "broker: missing"},
		{func(c *Config) { c.Broker = "http://x:80" }, `scheme "http"`},
		{func(c *Config) { c.Broker = "tcp://broker" }, "want host:port"},
		{func(c *Config) { c.Broker = "tcp://broker:99999" }, "port"},
		{func(c *Config) { c.Broker = "tcp://u:p@broker:1883" }, "credentials in the URL"},
		{func(c *Config) { c.StoreID = "" }, "store_id: missing"},
		{func(c *Config) { c.AgentID = "a/b" }, "agent_id"},
		{func(c *Config) { c.StoreID = "s+" }, "store_id"},
		{func(c *Config) { c.TopicPrefix = "/x" }, "topic_prefix"},
		{func(c *Config) { c.TopicPrefix = "a//b" }, "topic_prefix"},
		{func(c *Config) { c.PasswordFile = "/x" }, "password_file: set without username"},
		{func(c *Config) { c.TLS.CertFile = "c.pem" }, "cert_file and key_file"},
		{func(c *Config) { c.KeepAlive = 0 }, "keep_alive"},
		{func(c *Config) { c.BackoffMax = time.Millisecond }, "backoff_max"},
		{func(c *Config) { c.ReconnectSpread = -time.Second }, "reconnect_spread"},
		{func(c *Config) { c.MaxInflight = 70000 }, "max_inflight"},
		{func(c *Config) { c.BacklogRate = -1 }, "backlog_rate"},
		{func(c *Config) { c.BatchSize = 0 }, "batch_size"},
		{func(c *Config) { c.CommandTimeout = 0 }, "command_timeout"},
		{func(c *Config) { c.ClientID = strings.Repeat("x", 200) }, "client_id"},
	} {
		cfg := validConfig()
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate() = %v, want an error containing %q", err, c.want)
		}
	}
	for _, u := range []string{"tcp://h:1883", "mqtt://h:1883", "tls://h:8883", "mqtts://h:8883", "ws://h:80/mqtt", "wss://h:443/mqtt", "tcp://[::1]:1883"} {
		c := validConfig()
		c.Broker = u
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
broker: ssl://a1b2.iot.eu-west-1.amazonaws.com:8883
store_id: store-7
agent_id: pi-1
backoff_max: 30s
backlog_rate: 50
tls: {ca_file: /etc/edge-agent/ca.pem, cert_file: /etc/edge-agent/cert.pem, key_file: /etc/edge-agent/key.pem}
`
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BackoffMax != 30*time.Second || c.BacklogRate != 50 || c.TLS.KeyFile != "/etc/edge-agent/key.pem" ||
		c.clientID() != "store-7-pi-1" || c.MaxInflight != 1000 {
		t.Errorf("decoded %+v", c)
	}
}

func TestNewReadsFiles(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret\r\n"), 0o600)
	c := validConfig()
	c.Broker = "tcp://127.0.0.1:1883"
	c.Username, c.PasswordFile = "agent", pw
	p, err := New(c, newMemOutbox(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.password != "s3cret" {
		t.Errorf("password %q, want the file less its newline", p.password)
	}
	if p.Topic("agg/door") != "edge-agent/store-7/pi-1/agg/door" {
		t.Errorf("topic %q", p.Topic("agg/door"))
	}

	certs, err := mosquitto.GenerateCerts(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a pem"), 0o600)
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"missing password file", func(c *Config) { c.Username, c.PasswordFile = "a", missing }, "password_file: open " + missing},
		{"empty password file", func(c *Config) {
			e := filepath.Join(dir, "empty")
			os.WriteFile(e, []byte("\n"), 0o600)
			c.Username, c.PasswordFile = "a", e
		}, "is empty"},
		{"missing CA", func(c *Config) { c.TLS.CAFile = missing }, "tls.ca_file: open " + missing},
		{"CA not PEM", func(c *Config) { c.TLS.CAFile = garbage }, "tls.ca_file: " + garbage + " holds no PEM"},
		{"missing cert", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = missing, certs.ClientKeyFile }, "tls.cert_file: stat " + missing},
		{"missing key", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = certs.ClientCertFile, missing }, "tls.key_file: stat " + missing},
		{"key of another cert", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = certs.ClientCertFile, certs.UntrustedKeyFile }, "private key does not match"},
		{"cert not PEM", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = garbage, certs.ClientKeyFile }, "tls.cert_file " + garbage},
		{"TLS files on a plain URL", func(c *Config) { c.Broker = "tcp://h:1883"; c.TLS.CAFile = certs.CAFile }, "not an ssl://"},
	} {
		c := validConfig()
		tc.mod(&c)
		_, err := New(c, newMemOutbox(), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	c = validConfig()
	c.TLS = TLSConfig{CAFile: certs.CAFile, CertFile: certs.ClientCertFile, KeyFile: certs.ClientKeyFile}
	if _, err := New(c, newMemOutbox(), nil); err != nil {
		t.Errorf("good TLS files: %v", err)
	}
}

func TestMarkHistorical(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":"x","n":1}`:  `{"id":"x","n":1,"historical":true}`,
		`{"id":"x"}` + "\n": `{"id":"x","historical":true}` + "\n",
		`{}`:                `{"historical":true}`,
		`{ }`:               `{ "historical":true}`,
		`{"a":{"b":1} }`:    `{"a":{"b":1} ,"historical":true}`,
		`[1,2]`:             `[1,2]`,
		`"str"`:             `"str"`,
		``:                  ``,
		`}`:                 `}`,
	} {
		if got := string(markHistorical([]byte(in))); got != want {
			t.Errorf("markHistorical(%q) = %q, want %q", in, got, want)
		}
	}
	orig := []byte(`{"id":"x"}`)
	markHistorical(orig)
	if string(orig) != `{"id":"x"}` {
		t.Errorf("stored payload changed to %s", orig)
	}
}

// FuzzMarkHistorical: for any JSON object, the result is a JSON object with
// the same fields plus historical=true; anything else comes back unchanged
// or at least without a panic.
func FuzzMarkHistorical(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"a-1","in":3}`, " {\"a\":[1,{}]} \n", `[]`, `{"historical":false}`, `{"a":"}"}`, `x}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := markHistorical(in)
		var obj map[string]json.RawMessage
		if json.Unmarshal(in, &obj) != nil || obj == nil {
			return
		}
		if _, had := obj["historical"]; had {
			return // a duplicate key: the last one (ours) wins for most parsers
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q -> %q: %v", in, out, err)
		}
		if string(got["historical"]) != "true" || len(got) != len(obj)+1 {
			t.Fatalf("%q -> %q", in, out)
		}
		for k, v := range obj {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("%q -> %q: field %q changed", in, out, k)
			}
		}
	})
}

func TestLimiterAndBackoff(t *testing.T) {
	t0 := time.Unix(0, 0)
	l := newLimiter(100, t0) // burst 10
	for i := 0; i < 10; i++ {
		if d := l.delay(t0); d != 0 {
			t.Fatalf("burst message %d delayed %v", i, d)
		}
		l.take(t0)
	}
	if d := l.delay(t0); d != 10*time.Millisecond {
		t.Errorf("after the burst: delay %v, want 10ms", d)
	}
	if d := l.delay(t0.Add(10 * time.Millisecond)); d != 0 {
		t.Errorf("after 10ms: delay %v, want 0", d)
	}
	if d := newLimiter(0, t0).delay(t0); d != 0 {
		t.Errorf("unlimited: %v", d)
	}
}

func TestReconnectWindow(t *testing.T) {
	c := DefaultConfig()
	c.BackoffMin, c.BackoffMax, c.ReconnectSpread = time.Second, time.Minute, 0
	for n, want := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 3: 8 * time.Second, 10: time.Minute, 100: time.Minute} {
		if w := c.reconnectWindow(n, false); w != want {
			t.Errorf("window(%d) = %v, want %v", n, w, want)
		}
	}
	// a busy broker gets the whole window at once
	if w := c.reconnectWindow(0, true); w != time.Minute {
		t.Errorf("busy window = %v, want 1m", w)
	}
	// the spread is a floor for every attempt, the first after a loss too
	c.ReconnectSpread = 20 * time.Second
	for n, want := range map[int]time.Duration{0: 20 * time.Second, 4: 20 * time.Second, 5: 32 * time.Second, 9: time.Minute} {
		if w := c.reconnectWindow(n, false); w != want {
			t.Errorf("spread window(%d) = %v, want %v", n, w, want)
		}
	}
	// and is capped by backoff_max
	c.ReconnectSpread = time.Hour
	if w := c.reconnectWindow(0, false); w != time.Minute {
		t.Errorf("capped spread = %v, want 1m", w)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	c := DefaultConfig()
	c.BackoffMin, c.BackoffMax, c.ReconnectSpread = 2*time.Millisecond, time.Minute, 10*time.Second
	// full jitter: uniform over [backoff_min/2, window], so a fleet's
	// delays fill the whole window: a tenth of them in each tenth of it
	const n = 4000
	var buckets [10]int
	for range n {
		d := c.backoff(0, false)
		if d < time.Millisecond || d > 10*time.Second {
			t.Fatalf("backoff = %v, want within [1ms, 10s]", d)
		}
		buckets[min(int(d/time.Second), 9)]++
	}
	for i, b := range buckets {
		if b < n/10*7/10 || b > n/10*13/10 {
			t.Errorf("second %d of the window holds %d of %d delays, want about %d", i, b, n, n/10)
		}
	}
	// the first attempt without a spread: never at once, never in step
	c.BackoffMin, c.ReconnectSpread = time.Second, 0
	seen := map[time.Duration]bool{}
	for range 100 {
		d := c.backoff(0, false)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("first backoff = %v, want within [0.5s, 1s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("100 first delays take %d values: agents would retry in step", len(seen))
	}
}

func TestBusy(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{classify("b", packets.ErrorRefusedServerUnavailable, false, false), true},
		{classify("b", errors.New("unknown CONNACK code 0x97"), false, false), true},
		{classify("b", packets.ErrorRefusedNotAuthorised, false, false), false},
		{classify("b", packets.ErrorNetworkError, false, false), false},
	} {
		if got := Busy(tc.err); got != tc.want {
			t.Errorf("Busy(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestStatusJSONShape(t *testing.T) {
	// the agent serialises Status on its status socket
	b, err := json.Marshal(Status{Connected: true, Sent: 3})
	if err != nil || !bytes.Contains(b, []byte(`"connected":true,`)) || !bytes.Contains(b, []byte(`"sent":3,`)) ||
		bytes.Contains(b, []byte("last_error")) {
		t.Errorf("%s %v", b, err)
	}
}

// FuzzParseBroker: any string gives an error naming the broker field or a
// URL with a known scheme and a port, never a panic.
func FuzzParseBroker(f *testing.F) {
	for _, s := range []string{"tcp://h:1883", "ssl://[::1]:8883", "wss://h:443/mqtt", "tcp://h", "://", "tcp://:1", "tcp://h:0", "tcp://u@h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseBroker(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "broker: ") {
				t.Fatalf("%q: error %q does not name the field", s, err)
			}
			return
		}
		if u.Port() == "" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("%q accepted as %#v", s, u)
		}
	})
}
