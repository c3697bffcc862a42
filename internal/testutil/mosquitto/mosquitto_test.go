package mosquitto

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func connect(t *testing.T, url string, tc *tls.Config, user, pass string) error {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID("helper-test").
		SetConnectTimeout(3 * time.Second).SetAutoReconnect(false).SetProtocolVersion(4)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	if user != "" {
		o.SetUsername(user).SetPassword(pass)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	tok.Wait()
	if tok.Error() == nil {
		c.Disconnect(50)
	}
	return tok.Error()
}

func TestIntegrationStartStopRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	b := Start(t, Options{})
	if err := connect(t, b.URL(), nil, "", ""); err != nil {
		t.Fatalf("connect: %v", err)
	}
	b.Stop()
	if err := connect(t, b.URL(), nil, "", ""); err == nil {
		t.Fatal("connected to a stopped broker")
	}
	b.Restart()
	if err := connect(t, b.URL(), nil, "", ""); err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
}

func TestIntegrationTLSAndPasswords(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	b := Start(t, Options{RequireClientCert: true, Users: map[string]string{"agent": "pw"}})
	pem, err := os.ReadFile(b.Certs.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cert, err := tls.LoadX509KeyPair(b.Certs.ClientCertFile, b.Certs.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}
	if err := connect(t, b.URL(), tc, "agent", "pw"); err != nil {
		t.Fatalf("client certificate and password: %v", err)
	}
	if err := connect(t, b.URL(), tc, "agent", "nope"); err == nil {
		t.Error("wrong password accepted")
	}
	if err := connect(t, b.URL(), &tls.Config{RootCAs: pool}, "agent", "pw"); err == nil {
		t.Error("connection without a client certificate accepted")
	}
}
