package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// awsYAML is a store on AWS IoT Core; mqtt is extra keys under mqtt:, the
// sensors n simulated shelves with ids of idLen bytes.
func awsYAML(t *testing.T, mqtt string, n, idLen int) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `store_id: shibuya-01
agent_id: pi-1
state_dir: /tmp/x
mqtt:
  broker: ssl://abc123-ats.iot.ap-northeast-1.amazonaws.com:8883
  profile: aws-iot
  tls: {ca_file: %[1]s/ca.pem, cert_file: %[1]s/cert.pem, key_file: %[1]s/key.pem}
%s
sensors:
  - {id: door, kind: tof-2zone, role: entrance, bus: sim, simulate: {seed: 1, per_minute: 10}}
`, dir, mqtt)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("shelf-%d-", i)
		id += strings.Repeat("x", max(0, idLen-len(id)))
		fmt.Fprintf(&b, "  - {id: %s, kind: pir, role: shelf, pins: {motion: SIM_M}, simulate: {seed: %d, per_minute: 2}}\n", id, i+2)
	}
	return b.String()
}

func validateYAML(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	c, err := Parse("store.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, yaml)
	}
	return c, c.Validate()
}

func TestProfileAWSIoT(t *testing.T) {
	c, err := validateYAML(t, awsYAML(t, "", 2, 10))
	if err != nil {
		t.Fatalf("a store that fits AWS IoT Core: %v", err)
	}
	// the defaults are lowered to what AWS accepts
	if c.MQTT.MaxInflight != 100 || c.MQTT.BacklogRate != 50 {
		t.Errorf("aws-iot defaults: max_inflight %d, backlog_rate %v; want 100, 50", c.MQTT.MaxInflight, c.MQTT.BacklogRate)
	}
	// and the same config without the profile keeps the generic ones
	c, err = validateYAML(t, strings.Replace(awsYAML(t, "", 2, 10), "profile: aws-iot", "profile: generic", 1))
	if err != nil || c.MQTT.MaxInflight != 1000 {
		t.Fatalf("generic: %v, max_inflight %d", err, c.MQTT.MaxInflight)
	}

	for _, tc := range []struct {
		name, mqtt string
		sensors    int
		idLen      int
		key, want  string
	}{
		{"topic depth", "  topic_prefix: acme/jp/kanto/tokyo/stores", 1, 8, "mqtt.topic_prefix", "have 8 '/', AWS IoT Core allows 7"},
		{"topic length", "  topic_prefix: " + strings.Repeat("p", 200), 1, 60, "sensors[1].id", "bytes, AWS IoT Core allows 256"},
		{"keep alive", "  keep_alive: 10s", 1, 8, "mqtt.keep_alive", "10s: AWS IoT Core accepts 30s to 20m0s"},
		{"in flight", "  max_inflight: 500", 1, 8, "mqtt.max_inflight", "at most 100 unacknowledged"},
		{"reconnect", "  backoff_min: 100ms", 1, 8, "mqtt.backoff_min", "one CONNECT per second per client id"},
		{"unlimited backlog", "  backlog_rate: 0", 1, 8, "mqtt.backlog_rate", "0 msg/s (0 = unlimited)"},
		{"backlog too fast", "  backlog_rate: 100", 1, 8, "mqtt.backlog_rate", "over AWS IoT Core's 100 publishes/s"},
		{"plain TCP", "  broker: tcp://broker.example.com:1883", 1, 8, "mqtt.broker", "TLS only"},
		{"port 443", "  broker: ssl://abc-ats.iot.ap-northeast-1.amazonaws.com:443", 1, 8, "mqtt.broker", "x-amzn-mqtt-ca"},
		{"payload", "", 2000, 60, "sensors", "over AWS IoT Core's 131072-byte payload limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := awsYAML(t, tc.mqtt, tc.sensors, tc.idLen)
			if strings.Contains(tc.mqtt, "broker:") { // replaces the one above
				yaml = strings.Replace(yaml, "  broker: ssl://abc123-ats.iot.ap-northeast-1.amazonaws.com:8883\n", "", 1)
				yaml = strings.Replace(yaml, "  tls: {", "  username: u\n  tls: {", 1)
			}
			if tc.name == "payload" {
				yaml = strings.Replace(yaml, "mqtt:\n", "window: 1m\nmqtt:\n", 1)
			}
			_, err := validateYAML(t, yaml)
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.want) || !strings.Contains(ce.Msg, "mqtt.profile: aws-iot") || ce.Line == 0 {
				t.Fatalf("got %v (%+v), want %s: ...%s... at a line", err, ce, tc.key, tc.want)
			}
			t.Log(err)
		})
	}
}

// The largest message is estimated from the real encoder and the health
// message's fields: it grows with the sensors and stays well under the
// limit for a real store.
func TestLargestMessage(t *testing.T) {
	c, err := validateYAML(t, awsYAML(t, "", 40, 20))
	if err != nil {
		t.Fatal(err)
	}
	specs, _ := c.Specs()
	small, _ := largestMessage(c.StoreID, c.AgentID, specs[:2])
	size, what := largestMessage(c.StoreID, c.AgentID, specs)
	if (what != "store" && what != "health") || size < small+38*len(`,"shelf-0-xxxxxxxxxxx":0.3333`) || size > 8<<10 {
		t.Fatalf("40 shelves: %s message of %d bytes (2 sensors: %d)", what, size, small)
	}
}

func TestProfileDots(t *testing.T) {
	yaml := func(profile string) string {
		return `store_id: shop.01
agent_id: pi-1
state_dir: /tmp/x
mqtt: {broker: "tcp://127.0.0.1:1883", profile: ` + profile + `}
sensors:
  - {id: door, kind: tof-2zone, role: entrance, bus: sim, simulate: {seed: 1, per_minute: 10}}
`
	}
	if _, err := validateYAML(t, yaml("generic")); err != nil {
		t.Fatalf("generic accepts a '.': %v", err)
	}
	for _, p := range []string{"nats", "rabbitmq"} {
		_, err := validateYAML(t, yaml(p))
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "store_id" || ce.Line != 1 || !strings.Contains(ce.Msg, "contains a '.'") {
			t.Errorf("%s: %v", p, err)
		}
	}
	_, err := validateYAML(t, yaml("emqx"))
	if err == nil || !strings.Contains(err.Error(), "want one of generic, aws-iot, nats, rabbitmq") {
		t.Errorf("unknown profile: %v", err)
	}
}
