// Package broker runs an embedded MQTT broker (mochi-mqtt) for the demo and
// for tests: one TCP listener, allow-all by default, and inline
// subscriptions so the embedding program sees what is published without a
// client of its own.
package broker

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running embedded broker.
type Broker struct {
	srv       *mqtt.Server
	acc       *acceptor
	addr      string
	subID     atomic.Int32
	closeOnce sync.Once
}

// Message is a message seen by an inline subscription.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Option customises Start.
type Option func(*options)

type options struct {
	users map[string]string
	hooks []mqtt.Hook
}

// WithUsers makes the broker accept only these username → password pairs
// (CONNACK "bad user name or password" otherwise) instead of anyone.
func WithUsers(users map[string]string) Option {
	return func(o *options) { o.users = users }
}

// WithHook adds a mochi hook, for tests that need to see or alter packets.
func WithHook(h mqtt.Hook) Option {
	return func(o *options) { o.hooks = append(o.hooks, h) }
}

// Start listens on addr (host:port; port 0 picks a free one) and serves.
func Start(addr string, log *slog.Logger, opts ...Option) (*Broker, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("broker: listen %s: %w", addr, err)
	}
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: log.With("component", "broker")})
	authHook := &usersHook{users: o.users}
	for _, h := range append([]mqtt.Hook{authHook}, o.hooks...) {
		if err := srv.AddHook(h, nil); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("broker: hook %s: %w", h.ID(), err)
		}
	}
	// no mochi listener: the acceptor serves ln (see accept.go)
	if err := srv.Serve(); err != nil {
		_ = ln.Close()
		_ = srv.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	return &Broker{srv: srv, acc: startAcceptor(srv, ln), addr: ln.Addr().String()}, nil
}

// Addr is the address the broker listens on (the real port when ":0" was
// asked for).
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's address as an MQTT client URL: tcp://host:port.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Subscribe calls fn for every message published on a topic matching filter
// (MQTT wildcards allowed), including retained ones at subscribe time. fn
// runs on the broker's goroutines and must not block.
func (b *Broker) Subscribe(filter string, fn func(Message)) error {
	if fn == nil {
		return errors.New("broker: nil subscriber")
	}
	return b.srv.Subscribe(filter, int(b.subID.Add(1)), func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		fn(Message{Topic: pk.TopicName, Payload: pk.Payload, Retained: pk.FixedHeader.Retain})
	})
}

// Publish sends a message from the broker itself (e.g. a command to an
// agent).
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return b.srv.Publish(topic, payload, retain, qos)
}

// Close stops listening, disconnects every client and waits for their
// connections to end; safe against clients connecting meanwhile, and
// against a second Close.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.acc.close()
		_ = b.srv.Close()
	})
	return nil
}

// usersHook accepts the configured username/password pairs (anyone when
// users is nil) and allows every topic. (mochi's own auth hooks would pull
// in a YAML module this repository does not carry.)
type usersHook struct {
	mqtt.HookBase
	users map[string]string
}

func (h *usersHook) ID() string { return "users" }

func (h *usersHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *usersHook) OnConnectAuthenticate(_ *mqtt.Client, pk packets.Packet) bool {
	if h.users == nil {
		return true
	}
	pw, ok := h.users[string(pk.Connect.Username)]
	return ok && bytes.Equal([]byte(pw), pk.Connect.Password)
}

func (h *usersHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
