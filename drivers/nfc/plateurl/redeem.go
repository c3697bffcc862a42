package plateurl

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
)

// Redeemed records the coupons a verifier accepted.
type Redeemed interface {
	// Redeem marks (plateID, counter) as used. It reports false, and changes
	// nothing, when it already was. It must be atomic: of two concurrent
	// calls with the same coupon, one gets true.
	Redeem(plateID string, counter uint64) (first bool, err error)
}

// Verifier verifies coupon URLs of one store and redeems each once.
type Verifier struct {
	secret []byte
	store  Redeemed
}

// NewVerifier returns a verifier for the store whose secret is secret
// (copied), recording redemptions in store.
func NewVerifier(secret []byte, store Redeemed) (*Verifier, error) {
	if len(secret) < MinSecretLen {
		return nil, ErrShortSecret
	}
	if store == nil {
		return nil, errors.New("plateurl: NewVerifier: nil Redeemed store")
	}
	return &Verifier{secret: bytes.Clone(secret), store: store}, nil
}

// Redeem verifies u and records its coupon as used. A valid coupon seen
// before fails with ErrReplayed (and its claims); a URL that does not
// verify is not recorded.
func (v *Verifier) Redeem(u string) (Claims, error) {
	c, err := Verify(u, v.secret)
	if err != nil {
		return Claims{}, err
	}
	first, err := v.store.Redeem(c.PlateID, c.Counter)
	if err != nil {
		return Claims{}, fmt.Errorf("plateurl: recording %s: %w", c, err)
	}
	if !first {
		return c, fmt.Errorf("%w: plate %s counter %d", ErrReplayed, c.PlateID, c.Counter)
	}
	return c, nil
}

// String describes the verifier without its secret.
func (v *Verifier) String() string { return "plateurl.Verifier{HMAC-SHA256/128}" }

// GoString keeps %#v from printing the secret.
func (v *Verifier) GoString() string { return v.String() }

// MemoryRedeemed is an in-memory Redeemed, safe for concurrent use. It
// keeps every coupon it saw: fine for tests and a single process; a service
// with several instances needs a shared store (a unique key in a database).
type MemoryRedeemed struct {
	mu   sync.Mutex
	used map[Claims]struct{}
}

// NewMemoryRedeemed returns an empty in-memory store.
func NewMemoryRedeemed() *MemoryRedeemed {
	return &MemoryRedeemed{used: map[Claims]struct{}{}}
}

// Redeem implements Redeemed.
func (m *MemoryRedeemed) Redeem(plateID string, counter uint64) (bool, error) {
	k := Claims{PlateID: plateID, Counter: counter}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.used[k]; ok {
		return false, nil
	}
	m.used[k] = struct{}{}
	return true, nil
}

// Len is the number of coupons redeemed.
func (m *MemoryRedeemed) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.used)
}
