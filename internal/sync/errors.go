package sync

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Kinds of connection failure, for errors.Is on what Check and Status
// report. The permanent ones (see Permanent) need the user to fix the
// configuration or the broker side; the others only mean "keep buffering".
var (
	ErrUnreachable        = errors.New("broker unreachable")
	ErrServerUnavailable  = errors.New("broker says it is unavailable")
	ErrBadCredentials     = errors.New("broker refused the username or password")
	ErrNotAuthorized      = errors.New("broker says this client is not authorized")
	ErrClientIDRejected   = errors.New("broker rejected the client id")
	ErrProtocolRejected   = errors.New("broker does not accept MQTT 3.1.1")
	ErrTLS                = errors.New("TLS failure")
	errConnectionRejected = errors.New("broker rejected the connection")
)

// ConnectError is a failed connection attempt: Kind is one of the Err*
// values above, Err the underlying cause.
type ConnectError struct {
	Broker string
	Kind   error
	Err    error
	Hint   string
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mqtt connect to %s: %v", e.Broker, e.Kind)
	if e.Err != nil && e.Err != e.Kind {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

func (e *ConnectError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Permanent reports whether err is a connection failure that retrying will
// not cure: refused credentials or authorization, a rejected client id or
// protocol, or a TLS failure (certificate not trusted, client certificate
// refused). The daemon exits on these at start; anything else (network
// unreachable, broker down) just means the outbox keeps buffering.
func Permanent(err error) bool {
	for _, k := range []error{ErrBadCredentials, ErrNotAuthorized, ErrClientIDRejected, ErrProtocolRejected, ErrTLS} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// Busy reports whether err is a broker's refusal that says "not now"
// rather than "never": CONNACK 3 (server unavailable, which is also what a
// broker answers an MQTT 3.1.1 client for the MQTT 5 reasons server busy,
// quota exceeded and connection rate exceeded) or a return code MQTT 3.1.1
// does not define. The publisher then waits a whole backoff_max window
// instead of hammering a broker that is shedding load.
func Busy(err error) bool {
	return errors.Is(err, ErrServerUnavailable) || errors.Is(err, errConnectionRejected)
}

// classify turns a paho connect error into a ConnectError. usesTLS and
// clientCert say what the connection was configured with, for hints.
func classify(broker string, err error, usesTLS, clientCert bool) *ConnectError {
	ce := &ConnectError{Broker: broker, Err: err}
	switch {
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword):
		ce.Kind, ce.Hint = ErrBadCredentials, "check username and password_file"
	case errors.Is(err, packets.ErrorRefusedNotAuthorised):
		ce.Kind, ce.Hint = ErrNotAuthorized, "check username and password_file, the broker's ACL, or the certificate's policy"
	case errors.Is(err, packets.ErrorRefusedIDRejected):
		ce.Kind, ce.Hint = ErrClientIDRejected, "check client_id"
	case errors.Is(err, packets.ErrorRefusedBadProtocolVersion):
		ce.Kind = ErrProtocolRejected
	case errors.Is(err, packets.ErrorRefusedServerUnavailable):
		ce.Kind = ErrServerUnavailable
	case isTLSError(err):
		ce.Kind = ErrTLS
		switch {
		case isRemoteAlert(err) && clientCert:
			ce.Hint = "the broker refused the client certificate: check tls.cert_file/tls.key_file"
		case isRemoteAlert(err):
			ce.Hint = "the broker may require a client certificate: set tls.cert_file and tls.key_file"
		default:
			ce.Hint = "the broker's certificate is not trusted: check tls.ca_file and the broker host name"
		}
	case errors.Is(err, packets.ErrorNetworkError) || isNetError(err):
		ce.Kind = ErrUnreachable
		if usesTLS && clientCert && isReset(err) {
			// TLS 1.3 servers check the client certificate after the
			// client thinks the handshake is done, so a refused
			// certificate can look like a dropped connection.
			ce.Hint = "connection dropped right after the TLS handshake: the broker may have refused the client certificate"
		}
	default:
		ce.Kind = errConnectionRejected
	}
	return ce
}

func isTLSError(err error) bool {
	var (
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		ver  *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
	)
	return errors.As(err, &unk) || errors.As(err, &host) || errors.As(err, &inv) ||
		errors.As(err, &ver) || errors.As(err, &rec) || isRemoteAlert(err) ||
		strings.Contains(err.Error(), "tls: ")
}

// isRemoteAlert reports a TLS alert sent by the broker.
func isRemoteAlert(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return true
	}
	return strings.Contains(err.Error(), "remote error: tls:")
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || strings.Contains(err.Error(), "EOF")
}

func isReset(err error) bool {
	s := err.Error()
	return strings.Contains(s, "EOF") || strings.Contains(s, "connection reset")
}
