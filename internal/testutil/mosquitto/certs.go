package mosquitto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certs are PEM files of a throw-away PKI: a CA, a server certificate for
// the host, a client certificate signed by the CA, and an untrusted client
// certificate signed by another CA (to test refusal).
type Certs struct {
	CAFile                              string
	ServerCertFile, ServerKeyFile       string
	ClientCertFile, ClientKeyFile       string
	UntrustedCertFile, UntrustedKeyFile string
}

// GenerateCerts writes a fresh PKI into dir; host is an IP address or DNS
// name the server certificate is valid for.
func GenerateCerts(dir, host string) (*Certs, error) {
	c := &Certs{
		CAFile:            filepath.Join(dir, "ca.pem"),
		ServerCertFile:    filepath.Join(dir, "server.pem"),
		ServerKeyFile:     filepath.Join(dir, "server-key.pem"),
		ClientCertFile:    filepath.Join(dir, "client.pem"),
		ClientKeyFile:     filepath.Join(dir, "client-key.pem"),
		UntrustedCertFile: filepath.Join(dir, "untrusted.pem"),
		UntrustedKeyFile:  filepath.Join(dir, "untrusted-key.pem"),
	}
	ca, caKey, err := newCert(nil, nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "edge-agent test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, c.CAFile, "")
	if err != nil {
		return nil, err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: host},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		server.IPAddresses = []net.IP{ip}
	} else {
		server.DNSNames = []string{host}
	}
	if _, _, err := newCert(ca, caKey, server, c.ServerCertFile, c.ServerKeyFile); err != nil {
		return nil, err
	}
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "edge-agent test client"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, _, err := newCert(ca, caKey, client, c.ClientCertFile, c.ClientKeyFile); err != nil {
		return nil, err
	}
	other, otherKey, err := newCert(nil, nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "some other CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, filepath.Join(dir, "other-ca.pem"), "")
	if err != nil {
		return nil, err
	}
	if _, _, err := newCert(other, otherKey, client, c.UntrustedCertFile, c.UntrustedKeyFile); err != nil {
		return nil, err
	}
	return c, nil
}

// newCert signs tmpl with parent (self-signed when parent is nil) and
// writes the certificate and, if keyFile is set, its key.
func newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate, certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	t := *tmpl
	t.SerialNumber = serial
	t.NotBefore = time.Now().Add(-time.Hour)
	t.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent, parentKey = &t, key
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %w", t.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return nil, nil, err
	}
	if keyFile != "" {
		kb, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		if err := writePEM(keyFile, "PRIVATE KEY", kb); err != nil {
			return nil, nil, err
		}
	}
	return cert, key, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
