package sync

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the upstream section of the agent configuration.
type Config struct {
	// Broker is the broker URL: tcp://host:port (or mqtt://), ssl://, tls://
	// or mqtts:// for TLS, ws:// or wss:// for MQTT over websockets.
	Broker string `yaml:"broker"`
	// ClientID defaults to "<store>-<agent>".
	ClientID string `yaml:"client_id"`
	StoreID  string `yaml:"store_id"`
	AgentID  string `yaml:"agent_id"`
	// TopicPrefix is the first topic level(s); topics are
	// <prefix>/<store>/<agent>/...
	TopicPrefix string `yaml:"topic_prefix"`
	Username    string `yaml:"username"`
	// PasswordFile holds the password (read at start, one trailing newline
	// trimmed). The password itself never appears in the config or logs.
	PasswordFile string    `yaml:"password_file"`
	TLS          TLSConfig `yaml:"tls"`

	KeepAlive      time.Duration `yaml:"keep_alive"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// BackoffMin and BackoffMax bound the window the reconnect delay is
	// drawn from (uniformly): it doubles after each failed attempt, and a
	// broker that says it is unavailable (busy) gets BackoffMax at once.
	// Retried forever.
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// ReconnectSpread is the least window a reconnect delay is drawn from
	// (uniformly, "full jitter"), even the first one after a lost
	// connection: a fleet of N agents that lost one broker together comes
	// back at about N/ReconnectSpread connects per second on average
	// (2N/ReconnectSpread at the start of the wave). Capped at BackoffMax;
	// 0 = no floor.
	ReconnectSpread time.Duration `yaml:"reconnect_spread"`
	// MaxInflight is how many QoS 1 publishes may await their PUBACK at once.
	MaxInflight int `yaml:"max_inflight"`
	// BacklogRate limits the drain of records that were already stored when
	// the connection came up, in messages per second; 0 = unlimited. Live
	// records are never limited.
	BacklogRate float64 `yaml:"backlog_rate"`
	// BatchSize is how many records are read from the outbox at a time.
	BatchSize int `yaml:"batch_size"`
	// HealthInterval is how often the retained health message is refreshed
	// (when a health source is given).
	HealthInterval time.Duration `yaml:"health_interval"`
	// CommandTimeout bounds how long a command handler may take before the
	// reply says it timed out.
	CommandTimeout time.Duration `yaml:"command_timeout"`
	// AckSettle is how long a record whose PUBACK arrived stays in the
	// outbox before it is deleted; if the connection is lost meanwhile it
	// is sent again (settle.go): some brokers acknowledge before they store.
	// 0 deletes at the PUBACK.
	AckSettle time.Duration `yaml:"ack_settle"`
	// Profile names the broker product whose limits the configuration is
	// checked against (internal/config, profile.go): "" or "generic" (none),
	// "aws-iot", "nats", "rabbitmq".
	Profile string `yaml:"profile"`
}

// Profiles are the values of Config.Profile.
var Profiles = []string{"generic", "aws-iot", "nats", "rabbitmq"}

// TLSConfig holds the files for a TLS connection. With CertFile and KeyFile
// the client authenticates with a certificate (mutual TLS, as AWS IoT Core
// requires).
type TLSConfig struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// InsecureSkipVerify disables verification of the broker's certificate.
	// Only for tests against a broker with a throw-away certificate.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// DefaultConfig returns the defaults; Broker, StoreID and AgentID must still
// be set.
func DefaultConfig() Config {
	return Config{
		TopicPrefix:     "edge-agent",
		KeepAlive:       30 * time.Second,
		ConnectTimeout:  10 * time.Second,
		BackoffMin:      time.Second,
		BackoffMax:      2 * time.Minute,
		ReconnectSpread: 30 * time.Second,
		MaxInflight:     1000,
		BacklogRate:     200,
		BatchSize:       500,
		HealthInterval:  time.Minute,
		CommandTimeout:  10 * time.Second,
		AckSettle:       250 * time.Millisecond,
	}
}

// maxInflightLimit stays below the 65535 MQTT packet identifiers: paho
// silently completes the token of a reused identifier.
const maxInflightLimit = 60000

// Validate checks the configuration without touching any file; errors name
// the field.
func (c Config) Validate() error {
	if _, err := parseBroker(c.Broker); err != nil {
		return err
	}
	if err := checkLevel("store_id", c.StoreID); err != nil {
		return err
	}
	if err := checkLevel("agent_id", c.AgentID); err != nil {
		return err
	}
	if err := checkPrefix(c.TopicPrefix); err != nil {
		return err
	}
	if len(c.clientID()) > 128 {
		return fmt.Errorf("client_id: %d bytes is too long (brokers accept at most 128, many 23)", len(c.clientID()))
	}
	if c.Profile != "" && !slices.Contains(Profiles, c.Profile) {
		return fmt.Errorf("profile: %q: want one of %s", c.Profile, strings.Join(Profiles, ", "))
	}
	if c.PasswordFile != "" && c.Username == "" {
		return errors.New("password_file: set without username")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls: cert_file and key_file must be set together")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"keep_alive", c.KeepAlive},
		{"connect_timeout", c.ConnectTimeout},
		{"backoff_min", c.BackoffMin},
		{"backoff_max", c.BackoffMax},
		{"health_interval", c.HealthInterval},
		{"command_timeout", c.CommandTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s: must be > 0, got %v", d.name, d.v)
		}
	}
	if c.KeepAlive < time.Second {
		return fmt.Errorf("keep_alive: must be at least 1s, got %v", c.KeepAlive)
	}
	if c.ReconnectSpread < 0 {
		return fmt.Errorf("reconnect_spread: must be >= 0 (0 = no floor), got %v", c.ReconnectSpread)
	}
	if c.BackoffMax < c.BackoffMin {
		return fmt.Errorf("backoff_max: %v is less than backoff_min %v", c.BackoffMax, c.BackoffMin)
	}
	if c.MaxInflight < 1 || c.MaxInflight > maxInflightLimit {
		return fmt.Errorf("max_inflight: must be 1..%d, got %d", maxInflightLimit, c.MaxInflight)
	}
	if c.BacklogRate < 0 {
		return fmt.Errorf("backlog_rate: must be >= 0 (0 = unlimited), got %v", c.BacklogRate)
	}
	if c.AckSettle < 0 || c.AckSettle > time.Minute {
		return fmt.Errorf("ack_settle: must be 0..1m, got %v", c.AckSettle)
	}
	if c.BatchSize < 1 {
		return fmt.Errorf("batch_size: must be >= 1, got %d", c.BatchSize)
	}
	return nil
}

func (c Config) clientID() string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return c.StoreID + "-" + c.AgentID
}

// parseBroker checks the broker URL: a known scheme and host:port.
func parseBroker(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("broker: missing (e.g. ssl://broker.example.com:8883)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("broker: %q is not a URL: %v", s, err)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return nil, fmt.Errorf("broker: %q: scheme %q is not one of tcp, mqtt, ssl, tls, mqtts, ws, wss", s, u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return nil, fmt.Errorf("broker: %q: want host:port after %s://", s, u.Scheme)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("broker: %q: port %q is not 1..65535", s, port)
	}
	if u.User != nil {
		return nil, fmt.Errorf("broker: credentials in the URL are not allowed; use username and password_file")
	}
	return u, nil
}

func isTLSScheme(scheme string) bool {
	switch scheme {
	case "ssl", "tls", "mqtts", "wss":
		return true
	}
	return false
}

// checkLevel checks one topic level made of a configured id.
func checkLevel(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s: missing", field)
	}
	if strings.ContainsAny(s, "/+#$\x00") {
		return fmt.Errorf("%s: %q must not contain '/', '+', '#', '$' or NUL (it is a topic level)", field, s)
	}
	return nil
}

func checkPrefix(s string) error {
	if s == "" {
		return errors.New("topic_prefix: missing")
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return fmt.Errorf("topic_prefix: %q must not start or end with '/'", s)
	}
	for _, lvl := range strings.Split(s, "/") {
		if err := checkLevel("topic_prefix", lvl); err != nil {
			return fmt.Errorf("topic_prefix: %q has an empty or invalid level %q", s, lvl)
		}
	}
	return nil
}

// readPassword reads the password file: the whole file less one trailing
// newline (\n or \r\n).
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", fmt.Errorf("password_file: %s is empty", path)
	}
	return s, nil
}

// tlsConfig builds the TLS client configuration from the files, naming the
// file that cannot be read or parsed.
func (t TLSConfig) tlsConfig(host string) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         host,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit opt-in for tests
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		if _, err := os.Stat(t.CertFile); err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		if _, err := os.Stat(t.KeyFile); err != nil {
			return nil, fmt.Errorf("tls.key_file: %w", err)
		}
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file %s / tls.key_file %s: %v", t.CertFile, t.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
