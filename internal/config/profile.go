package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/plate"
	"github.com/omo-edge/edge-agent/internal/sensor"
)

// AWS IoT Core's message broker limits (AWS IoT Core endpoints and quotas,
// "Message broker and protocol limits and quotas"; docs/MQTT.md). They are
// hard limits: AWS refuses the publish or closes the connection.
const (
	awsMaxTopicSlashes  = 7
	awsMaxTopicBytes    = 256
	awsMaxPayloadBytes  = 128 << 10
	awsMinKeepAlive     = 30 * time.Second
	awsMaxKeepAlive     = 1200 * time.Second
	awsMaxInflight      = 100         // unacknowledged inbound QoS 1 publishes per client
	awsMaxPublishPerSec = 100         // publishes per second per connection
	awsMinReconnect     = time.Second // CONNECTs per second per client id: 1
	// awsBacklogRate is the backlog drain rate when backlog_rate is not
	// set: half the per-connection rate, the other half for live windows.
	awsBacklogRate = 50
)

// validateProfile checks the topic scheme and the largest messages against
// the limits of the broker product named by mqtt.profile, so a store does
// not find them out in production. Under aws-iot it also lowers the
// defaults of max_inflight and backlog_rate to what AWS accepts (when they
// are not set in the file).
func (c *Config) validateProfile(specs []sensor.Spec) error {
	switch c.MQTT.Profile {
	case "aws-iot":
		return c.checkAWSIoT(specs)
	case "nats", "rabbitmq":
		return c.checkNoDots()
	}
	return nil
}

// topicLevel is a config value that becomes a topic level, and its key.
type topicLevel struct{ key, value string }

func (c *Config) topicLevels() []topicLevel {
	ls := []topicLevel{{"mqtt.topic_prefix", c.MQTT.TopicPrefix}, {"store_id", c.StoreID}, {"agent_id", c.AgentID}}
	for i, s := range c.Sensors {
		ls = append(ls, topicLevel{fmt.Sprintf("sensors[%d].id", i), s.ID})
	}
	return ls
}

// checkNoDots: NATS 2.9 closes the connection of a client that publishes
// to a topic with a '.' in it (a NATS subject separator), and RabbitMQ
// turns every '.' into a '/' (so the cloud sees other topics, one level
// deeper). Both measured in internal/agent's broker tests.
func (c *Config) checkNoDots() error {
	for _, l := range c.topicLevels() {
		if strings.Contains(l.value, ".") {
			what := "NATS closes the connection on every publish to a topic with a '.'"
			if c.MQTT.Profile == "rabbitmq" {
				what = "RabbitMQ's MQTT plugin turns each '.' of a topic into a '/'"
			}
			return c.errf(l.key, "%q contains a '.', which becomes part of the topics: %s (mqtt.profile: %s); use '-' or '_'",
				l.value, what, c.MQTT.Profile)
		}
	}
	return nil
}

func (c *Config) checkAWSIoT(specs []sensor.Spec) error {
	m := &c.MQTT
	const why = "(mqtt.profile: aws-iot)"
	u, err := url.Parse(m.Broker)
	if err == nil {
		switch u.Scheme {
		case "ssl", "tls", "mqtts":
			if u.Port() == "443" {
				return c.errf("mqtt.broker", "%q: MQTT on port 443 needs the ALPN protocol x-amzn-mqtt-ca, which the agent does not send: use port 8883 %s", m.Broker, why)
			}
		case "wss":
			return c.errf("mqtt.broker", "%q: AWS IoT Core's MQTT over WebSocket needs SigV4 signing, which the agent does not do: use ssl://<endpoint>:8883 with a client certificate %s", m.Broker, why)
		default:
			return c.errf("mqtt.broker", "%q: AWS IoT Core accepts MQTT over TLS only: use ssl://<endpoint>-ats.iot.<region>.amazonaws.com:8883 %s", m.Broker, why)
		}
	}
	if m.TLS.CertFile == "" && m.Username == "" {
		return c.errf("mqtt.tls", "AWS IoT Core authenticates a device by its client certificate: set mqtt.tls.cert_file and key_file (or username for a custom authorizer) %s", why)
	}
	// Every topic is <prefix>/<store>/<agent>/<suffix>; the suffixes are
	// agg/<sensor>, store, status, health, cmd/<name>, reply/<name>.
	base := m.TopicPrefix + "/" + c.StoreID + "/" + c.AgentID + "/"
	deepest, deepKey := base+"cmd/"+plate.CommandName, "mqtt.topic_prefix"
	for i, s := range c.Sensors {
		if t := base + "agg/" + s.ID; len(t) > len(deepest) {
			deepest, deepKey = t, fmt.Sprintf("sensors[%d].id", i)
		}
	}
	if n := strings.Count(deepest, "/"); n > awsMaxTopicSlashes {
		return c.errf("mqtt.topic_prefix", "topics like %q have %d '/', AWS IoT Core allows %d: use a prefix of at most %d levels %s",
			deepest, n, awsMaxTopicSlashes, awsMaxTopicSlashes-4+1, why)
	}
	if len(deepest) > awsMaxTopicBytes {
		return c.errf(deepKey, "topic %.60q... is %d bytes, AWS IoT Core allows %d: shorten the prefix, store_id, agent_id or sensor ids %s",
			deepest, len(deepest), awsMaxTopicBytes, why)
	}
	if m.KeepAlive < awsMinKeepAlive || m.KeepAlive > awsMaxKeepAlive {
		return c.errf("mqtt.keep_alive", "%v: AWS IoT Core accepts %v to %v %s", m.KeepAlive, awsMinKeepAlive, awsMaxKeepAlive, why)
	}
	if m.BackoffMin < awsMinReconnect {
		return c.errf("mqtt.backoff_min", "%v: AWS IoT Core throttles more than one CONNECT per second per client id: at least %v %s", m.BackoffMin, awsMinReconnect, why)
	}
	if c.lines["mqtt.max_inflight"] == 0 && m.MaxInflight > awsMaxInflight {
		m.MaxInflight = awsMaxInflight
	}
	if m.MaxInflight > awsMaxInflight {
		return c.errf("mqtt.max_inflight", "%d: AWS IoT Core takes at most %d unacknowledged QoS 1 publishes per client %s", m.MaxInflight, awsMaxInflight, why)
	}
	// Live messages per second: one per sensor and one for the store per
	// window (health once a health_interval is negligible).
	live := float64(len(c.Sensors)+1) / c.Window.Seconds()
	if live > awsMaxPublishPerSec {
		return c.errf("window", "%v with %d sensors is %.0f publishes/s, AWS IoT Core allows %d per connection: use a longer window %s",
			c.Window, len(c.Sensors), live, awsMaxPublishPerSec, why)
	}
	if c.lines["mqtt.backlog_rate"] == 0 {
		m.BacklogRate = min(awsBacklogRate, float64(int(awsMaxPublishPerSec-live)))
	}
	if m.BacklogRate == 0 || live+m.BacklogRate > awsMaxPublishPerSec {
		return c.errf("mqtt.backlog_rate", "%v msg/s (0 = unlimited) plus %.1f/s of live windows is over AWS IoT Core's %d publishes/s per connection: at most %d %s",
			m.BacklogRate, live, awsMaxPublishPerSec, int(awsMaxPublishPerSec-live), why)
	}
	if size, what := largestMessage(c.StoreID, c.AgentID, specs); size > awsMaxPayloadBytes {
		return c.errf("sensors", "the %s message with %d sensors can reach about %d bytes, over AWS IoT Core's %d-byte payload limit: split the store over several agents %s",
			what, len(specs), size, awsMaxPayloadBytes, why)
	}
	return nil
}

// largestMessage estimates the largest payload the agent can publish with
// these sensors: the store window (its rate maps list every shelf and
// plate) or the health message (every sensor's state), rendered with
// 12-digit counts and the longest rate values.
func largestMessage(store, agent string, specs []sensor.Spec) (size int, what string) {
	big := int64(999_999_999_999)
	w := &aggregate.Window{Start: 253402300740000, End: 253402300799000, Occupancy: big, Sensors: make([]aggregate.Counts, len(specs))}
	for i := range w.Sensors {
		w.Sensors[i] = aggregate.Counts{Entries: big, Exits: big, Passersby: big, StopBys: big, Taps: big, Checkins: big}
	}
	enc := aggregate.NewEncoder(aggregate.Identity{Store: store, Agent: agent}, specs)
	size, what = len(enc.StoreWindow(nil, w, 1<<63)), "store"
	// a rate rendered from these counts is "1"; the longest is "0.3333"
	// or "null"
	for _, s := range specs {
		if s.Role == sensor.RoleShelf || s.Role == sensor.RolePlate {
			size += len("0.3333") - 1
		}
	}
	health := len(`{"v":1,"type":"health","store":"","agent":"","version":"v0.0.0-20260101000000-0123456789ab+dirty",`+
		`"ts":"2026-01-01T00:00:00Z","clock_synced":false,"outbox":{"depth":999999999999,"bytes":999999999999,`+
		`"dropped":999999999999,"oldest_at":"2026-01-01T00:00:00Z"},"sensors":{}}`) + len(store) + len(agent)
	for _, s := range specs {
		health += len(s.ID) + len(`"":"starting",`)
	}
	if health > size {
		return health, "health"
	}
	return size, what
}
