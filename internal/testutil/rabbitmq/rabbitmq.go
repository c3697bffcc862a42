// Package rabbitmq starts a private RabbitMQ node with the rabbitmq_mqtt
// plugin for integration tests: its own node name, Erlang cookie, ports,
// database and logs in t.TempDir(), never the system's node. It listens
// for MQTT on a plain TCP port and on a TLS port that requires a client
// certificate signed by a CA generated for the test. The test is skipped
// when rabbitmq-server is not installed (apt-get install rabbitmq-server).
//
// A node takes several seconds to boot: start one per test package and
// share it across subtests.
//
//	b := rabbitmq.Start(t)
//	cfg.Broker = b.URL()      // tcp://127.0.0.1:<port>
//	cfg.Broker = b.TLSURL()   // ssl://127.0.0.1:<port>, with b.Certs
//	b.Stop(); b.Restart()     // an outage; durable sessions and retained messages survive
package rabbitmq

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/testutil/brokerproc"
	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// Broker is a running (or stopped) RabbitMQ node.
type Broker struct {
	*brokerproc.Proc
	mqttPort, tlsPort int
	// Node is the Erlang node name (unique per test run).
	Node string
	// Certs are the certificates of the TLS listener.
	Certs *mosquitto.Certs
}

// Start boots a node (waiting for both MQTT listeners) and stops it when
// the test ends.
func Start(t testing.TB) *Broker {
	t.Helper()
	// The Debian wrapper in /usr/sbin switches to the rabbitmq user and
	// drops the environment; the real script is next to the Erlang code.
	bin, ok := brokerproc.Find("rabbitmq-server", "/usr/lib/rabbitmq/bin")
	if ok && filepath.Dir(bin) == "/usr/sbin" {
		if _, err := os.Stat("/usr/lib/rabbitmq/bin/rabbitmq-server"); err == nil {
			bin = "/usr/lib/rabbitmq/bin/rabbitmq-server"
		}
	}
	if !ok {
		t.Skip("rabbitmq-server is not installed (apt-get install rabbitmq-server); skipping the RabbitMQ test")
	}
	dir := t.TempDir()
	ports := brokerproc.FreePorts(t, 4) // mqtt, mqtt+tls, amqp (unused), distribution
	b := &Broker{mqttPort: ports[0], tlsPort: ports[1], Node: fmt.Sprintf("edgetest%d@localhost", ports[0])}
	certs, err := mosquitto.GenerateCerts(dir, "127.0.0.1")
	if err != nil {
		t.Fatalf("rabbitmq: certificates: %v", err)
	}
	b.Certs = certs
	home := filepath.Join(dir, "home")
	for _, d := range []string{home, filepath.Join(dir, "mnesia"), filepath.Join(dir, "log")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var c bytes.Buffer
	c.WriteString("listeners.tcp = none\nloopback_users = none\nmqtt.allow_anonymous = true\n")
	fmt.Fprintf(&c, "mqtt.listeners.tcp.default = 127.0.0.1:%d\nmqtt.listeners.ssl.default = 127.0.0.1:%d\n", b.mqttPort, b.tlsPort)
	fmt.Fprintf(&c, "ssl_options.cacertfile = %s\nssl_options.certfile = %s\nssl_options.keyfile = %s\n",
		certs.CAFile, certs.ServerCertFile, certs.ServerKeyFile)
	c.WriteString("ssl_options.verify = verify_peer\nssl_options.fail_if_no_peer_cert = true\n")
	files := map[string]string{
		"rabbitmq.conf":            c.String(),
		"enabled_plugins":          "[rabbitmq_mqtt].\n",
		"rabbitmq-env.conf":        "",
		"home/.erlang.cookie":      fmt.Sprintf("EDGETESTCOOKIE%d", time.Now().UnixNano()),
		"advanced.config.disabled": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(),
		"HOME="+home,
		"RABBITMQ_NODENAME="+b.Node,
		fmt.Sprintf("RABBITMQ_NODE_PORT=%d", ports[2]),
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", ports[3]),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "advanced.config"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "rabbitmq.pid"),
	)
	b.Proc = brokerproc.Start(t, brokerproc.Spec{
		Name: "rabbitmq " + b.Node, Bin: bin, Env: env, Dir: dir,
		LogPath: filepath.Join(dir, "rabbitmq.out"), Ports: ports[:2],
		BootTimeout: 90 * time.Second, StopTimeout: 20 * time.Second,
	})
	return b
}

// URL is the plain MQTT URL, tcp://127.0.0.1:port.
func (b *Broker) URL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.mqttPort) }

// TLSURL is the MQTT-over-TLS URL (client certificate required),
// ssl://127.0.0.1:port.
func (b *Broker) TLSURL() string { return fmt.Sprintf("ssl://127.0.0.1:%d", b.tlsPort) }
