// Package nats starts a real NATS server with its MQTT gateway for
// integration tests: on free loopback ports, JetStream (which NATS's MQTT
// needs for sessions, QoS 1 and retained messages) stored in t.TempDir(),
// optionally with TLS and client certificates required on the MQTT port.
// The test is skipped when nats-server is not installed (apt-get install
// nats-server; Debian puts it in /usr/sbin).
//
//	b := nats.Start(t, nats.Options{})
//	cfg.Broker = b.URL()    // tcp://127.0.0.1:<mqtt port>
//	b.Stop(); b.Restart()   // an outage; sessions and retained messages survive
package nats

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

// Options says what kind of server to start; the zero value is plain TCP
// MQTT with anonymous clients.
type Options struct {
	// TLS serves MQTT over TLS only (URL is ssl://...), with certificates
	// generated for the test (Certs).
	TLS bool
	// RequireClientCert makes the server verify client certificates
	// signed by the test CA; implies TLS.
	RequireClientCert bool
	// AckWait is how long the server waits for a subscriber's PUBACK
	// before it sends a QoS 1 message again (mqtt.ack_wait); 0 keeps the
	// server's default, 30 s.
	AckWait time.Duration
}

// Broker is a running (or stopped) nats-server.
type Broker struct {
	*brokerproc.Proc
	mqttPort int
	tls      bool
	// Certs are the generated certificates (nil without TLS).
	Certs *mosquitto.Certs
}

// Start starts nats-server and stops it when the test ends.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	bin, ok := brokerproc.Find("nats-server")
	if !ok {
		t.Skip("nats-server is not installed (apt-get install nats-server); skipping the NATS test")
	}
	if opts.RequireClientCert {
		opts.TLS = true
	}
	dir := t.TempDir()
	ports := brokerproc.FreePorts(t, 2)
	b := &Broker{mqttPort: ports[0], tls: opts.TLS}
	var c bytes.Buffer
	// MQTT requires JetStream, and JetStream a server name.
	fmt.Fprintf(&c, "server_name: edge_test_%d\nlisten: \"127.0.0.1:%d\"\n", ports[0], ports[1])
	fmt.Fprintf(&c, "jetstream {\n  store_dir: %q\n  max_memory_store: 64MB\n  max_file_store: 256MB\n}\n", filepath.Join(dir, "js"))
	fmt.Fprintf(&c, "mqtt {\n  listen: \"127.0.0.1:%d\"\n", ports[0])
	if opts.AckWait > 0 {
		fmt.Fprintf(&c, "  ack_wait: %q\n", opts.AckWait.String())
	}
	if opts.TLS {
		certs, err := mosquitto.GenerateCerts(dir, "127.0.0.1")
		if err != nil {
			t.Fatalf("nats: certificates: %v", err)
		}
		b.Certs = certs
		fmt.Fprintf(&c, "  tls {\n    cert_file: %q\n    key_file: %q\n    ca_file: %q\n    verify: %v\n    timeout: 2\n  }\n",
			certs.ServerCertFile, certs.ServerKeyFile, certs.CAFile, opts.RequireClientCert)
	}
	c.WriteString("}\n")
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, c.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Proc = brokerproc.Start(t, brokerproc.Spec{
		Name: "nats-server", Bin: bin, Args: []string{"-c", conf}, Dir: dir,
		LogPath: filepath.Join(dir, "nats.log"), Ports: ports,
	})
	return b
}

// URL is the MQTT URL: tcp:// or ssl://127.0.0.1:port.
func (b *Broker) URL() string {
	if b.tls {
		return fmt.Sprintf("ssl://127.0.0.1:%d", b.mqttPort)
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", b.mqttPort)
}
