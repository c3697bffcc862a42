// Package pseudo pseudonymizes NFC UIDs and member tokens on the device: a
// reader's raw value is replaced, before anything else sees it, by a keyed
// hash that is stable per store (the same card gives the same pseudonym, so
// repeat check-ins can be told apart from new ones) but cannot be linked to
// the card without the store's secret, and differs between stores.
//
// The pseudonym is HMAC-SHA256(secret, Label || 0x00 || raw), truncated to
// Size bytes. Raw values never appear in an error, a String() or a log line
// of this package, and neither does the secret.
package pseudo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"os"
	"sync"
)

// Size is the length of a pseudonym in bytes: 128 bits, so that collisions
// between the cards of one store are negligible (birthday bound 2^64) and
// the pseudonym costs 32 hex characters in a trace or a message.
const Size = 16

// MinSecretLen is the shortest secret New accepts (128 bits).
const MinSecretLen = 16

// Label separates this use of the secret from any other HMAC over the same
// key (a store may reuse one secret file for several purposes).
const Label = "edge-agent/nfc-pseudonym/v1"

// ErrShortSecret is returned by New for a secret shorter than MinSecretLen.
var ErrShortSecret = fmt.Errorf("pseudo: secret shorter than %d bytes", MinSecretLen)

// Pseudonymizer computes pseudonyms with one secret. It is safe for
// concurrent use.
type Pseudonymizer struct {
	mu     sync.Mutex
	mac    hash.Hash // HMAC keyed with the secret, reset per use
	prefix []byte    // Label || 0x00, kept as bytes so hashing allocates nothing
	sum    [sha256.Size]byte
}

// New returns a Pseudonymizer keyed with secret (copied; at least
// MinSecretLen bytes).
func New(secret []byte) (*Pseudonymizer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("%w (got %d)", ErrShortSecret, len(secret))
	}
	return &Pseudonymizer{mac: hmac.New(sha256.New, bytes.Clone(secret)), prefix: []byte(Label + "\x00")}, nil
}

// LoadSecret reads a secret from the file at path, without trailing line
// ends (an editor's or echo's newline is not part of the secret). Errors
// name the file, never its content.
func LoadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("secret file %s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("secret file %s: %w", path, err)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("secret file %s: empty", path)
	}
	if len(b) < MinSecretLen {
		return nil, fmt.Errorf("secret file %s: %d bytes, want at least %d", path, len(b), MinSecretLen)
	}
	return b, nil
}

// Token returns the pseudonym of raw (Size bytes, newly allocated).
func (p *Pseudonymizer) Token(raw []byte) []byte {
	return p.AppendToken(make([]byte, 0, Size), raw)
}

// AppendToken appends the pseudonym of raw to dst; it allocates nothing
// when dst has room.
func (p *Pseudonymizer) AppendToken(dst, raw []byte) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mac.Reset()
	p.mac.Write(p.prefix)
	p.mac.Write(raw)
	s := p.mac.Sum(p.sum[:0])
	return append(dst, s[:Size]...)
}

// String describes the pseudonymizer without its secret.
func (p *Pseudonymizer) String() string { return "pseudo.Pseudonymizer{HMAC-SHA256/128}" }

// GoString keeps %#v from printing the key schedule.
func (p *Pseudonymizer) GoString() string { return p.String() }

// LogValue keeps slog from walking into the struct.
func (p *Pseudonymizer) LogValue() slog.Value { return slog.StringValue(p.String()) }
