package sync

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	gosync "sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/ratelimit"
)

// Record is one outbox record: Topic is relative to the agent's base topic
// (e.g. "agg/door", "store"); Payload is a JSON object carrying the record's
// id. It has the same fields as buffer.Record, so the agent converts with
// sync.Record(r).
type Record struct {
	Seq     uint64
	Topic   string
	Payload []byte
}

// Outbox is what the publisher needs from the durable buffer.
type Outbox interface {
	// Pending returns up to max committed, unacked records with seq > after,
	// in seq order.
	Pending(after uint64, max int) ([]Record, error)
	// Ack marks records delivered (each after its own PUBACK).
	Ack(seqs ...uint64)
	// Committed signals after each commit: it either delivers a value or is
	// closed (and Committed returns a new channel afterwards).
	Committed() <-chan struct{}
	// LastSeq is the highest committed seq (0 when nothing was ever
	// committed). At connect, records up to it are the backlog.
	LastSeq() uint64
}

// CommandHandler answers a command received on cmd/<name>. A non-nil reply
// is published on reply/<name>. It runs on its own goroutine; a panic or a
// handler slower than Config.CommandTimeout yields an error reply instead.
type CommandHandler func(name string, payload []byte) (reply []byte)

// Option customises a Publisher.
type Option func(*Publisher)

// WithHealth publishes health() as retained JSON on "health" at connect and
// every Config.HealthInterval. health must be safe for concurrent use (a
// slow call may overlap with the next connection's).
func WithHealth(health func() any) Option { return func(p *Publisher) { p.health = health } }

// WithCommands subscribes to cmd/+ and answers with h.
func WithCommands(h CommandHandler) Option { return func(p *Publisher) { p.cmd = h } }

// maxCommands bounds the command handlers running at once: a stuck handler
// keeps its slot, so stuck handlers cannot pile up goroutines.
const maxCommands = 4

// Publisher moves outbox records to the broker at QoS 1 and acks each to the
// outbox only after its PUBACK on the connection that sent it.
type Publisher struct {
	cfg      Config
	ob       Outbox
	log      *slog.Logger
	broker   *url.URL
	tls      *tls.Config // nil for plain connections
	password string
	base     string // "<prefix>/<store>/<agent>/"
	health   func() any
	cmd      CommandHandler
	cmdSlots chan struct{}
	// the command path's bounds (commands.go)
	cmdLog      *slog.Logger
	replyBucket *ratelimit.Bucket
	cmdStats    commandCounters

	mu     gosync.Mutex
	status Status // Connected, Since, LastError under mu

	sent, acked, reconnects atomic.Uint64
	inflight                atomic.Int64
	backlogLeft             atomic.Uint64
}

// Status is a snapshot of the upstream state.
type Status struct {
	Connected bool `json:"connected"`
	// Since is when the current state (connected or not) began.
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	// Sent counts PUBLISH packets of records (re-sends included), Acked the
	// records acked to the outbox after their PUBACK.
	Sent     uint64 `json:"sent"`
	Acked    uint64 `json:"acked"`
	InFlight int    `json:"in_flight"`
	// Reconnects counts connections made after the first.
	Reconnects uint64 `json:"reconnects"`
	// BacklogRemaining is the seq span of the backlog still to send on this
	// connection: an upper bound on the number of records.
	BacklogRemaining uint64 `json:"backlog_remaining"`
	// Commands counts cmd/+ traffic.
	Commands CommandStats `json:"commands"`
}

// New checks cfg, reads the password and TLS files and returns a publisher
// ready to Run. Errors name the field or file at fault.
func New(cfg Config, ob Outbox, log *slog.Logger, opts ...Option) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ob == nil {
		return nil, errors.New("sync: nil outbox")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, _ := parseBroker(cfg.Broker)
	p := &Publisher{
		cfg:      cfg,
		ob:       ob,
		log:      log.With("component", "sync", "broker", u.Host),
		broker:   u,
		base:     cfg.TopicPrefix + "/" + cfg.StoreID + "/" + cfg.AgentID + "/",
		cmdSlots: make(chan struct{}, maxCommands),
		// a full bucket per publisher: replies are bounded across reconnects
		replyBucket: newReplyBucket(),
	}
	if cfg.PasswordFile != "" {
		pw, err := readPassword(cfg.PasswordFile)
		if err != nil {
			return nil, err
		}
		p.password = pw
	}
	tlsWanted := cfg.TLS != (TLSConfig{})
	switch {
	case isTLSScheme(u.Scheme):
		tc, err := cfg.TLS.tlsConfig(u.Hostname())
		if err != nil {
			return nil, err
		}
		p.tls = tc
	case tlsWanted:
		return nil, fmt.Errorf("tls: set, but broker %q is not an ssl://, tls://, mqtts:// or wss:// URL", cfg.Broker)
	}
	for _, o := range opts {
		o(p)
	}
	if p.cmdLog == nil {
		p.cmdLog = NewCommandLog(p.log)
	}
	p.status.Since = time.Now()
	return p, nil
}

// Topic returns the full topic of a record topic or of "status", "health",
// "reply/<name>".
func (p *Publisher) Topic(rel string) string { return p.base + rel }

// Status returns a snapshot of the upstream state.
func (p *Publisher) Status() Status {
	p.mu.Lock()
	s := p.status
	p.mu.Unlock()
	s.Sent = p.sent.Load()
	s.Acked = p.acked.Load()
	s.InFlight = int(p.inflight.Load())
	s.Reconnects = p.reconnects.Load()
	s.BacklogRemaining = p.backlogLeft.Load()
	s.Commands = p.cmdStats.stats()
	return s
}

func (p *Publisher) setConnected(c bool) {
	p.mu.Lock()
	p.status.Connected = c
	p.status.Since = time.Now()
	p.mu.Unlock()
}

func (p *Publisher) setError(err error) {
	p.mu.Lock()
	p.status.LastError = err.Error()
	p.mu.Unlock()
}

// statusPayload is the retained JSON of the status topic.
func (p *Publisher) statusPayload(state string) []byte {
	b, _ := json.Marshal(struct {
		State string `json:"state"`
		Agent string `json:"agent"`
		Store string `json:"store"`
		TS    string `json:"ts"`
	}{state, p.cfg.AgentID, p.cfg.StoreID, time.Now().UTC().Format(time.RFC3339Nano)})
	return b
}

// clientOptions builds a fresh paho configuration. AutoReconnect and
// session resume stay off: after paho's own reconnect a resumed publish
// token completes with no error before any PUBACK (paho.mqtt.golang #563),
// which would ack records the broker never got. Each connection gets a new
// clean-session client instead, and the outbox re-sends what was not acked.
func (p *Publisher) clientOptions(will bool) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(p.broker.String()).
		SetClientID(p.cfg.clientID()).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetProtocolVersion(4). // explicit: no silent fallback to 3.1 that hides CONNACK codes
		SetKeepAlive(p.cfg.KeepAlive).
		SetPingTimeout(p.cfg.KeepAlive/2 + time.Second).
		SetConnectTimeout(p.cfg.ConnectTimeout).
		SetWriteTimeout(p.cfg.ConnectTimeout).
		SetOrderMatters(false)
	if p.cfg.Username != "" {
		o.SetUsername(p.cfg.Username)
		o.SetPassword(p.password)
	}
	if p.tls != nil {
		o.SetTLSConfig(p.tls.Clone())
	}
	switch p.broker.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
		o.SetCustomOpenConnectionFn(p.openConn)
	}
	if will {
		o.SetBinaryWill(p.base+"status", p.statusPayload("offline"), 1, true)
	}
	return o
}

// connection is one paho client: lost is closed when its connection drops.
type connection struct {
	client  mqtt.Client
	lost    chan struct{}
	lostErr error
}

// dial makes one connection attempt.
func (p *Publisher) dial(ctx context.Context, will bool) (*connection, error) {
	c := &connection{lost: make(chan struct{})}
	var once gosync.Once
	o := p.clientOptions(will).SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		once.Do(func() { c.lostErr = err; close(c.lost) })
	})
	c.client = mqtt.NewClient(o)
	tok := c.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		go func() { tok.Wait(); c.client.Disconnect(0) }()
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		ce := classify(p.broker.Redacted(), err, p.tls != nil, p.tls != nil && len(p.tls.Certificates) > 0)
		if ce.Kind == ErrUnreachable && isReset(err) {
			if alert := p.probeTLS(ctx); alert != nil {
				ce = classify(p.broker.Redacted(), alert, true, len(p.tls.Certificates) > 0)
			}
		}
		return nil, ce
	}
	return c, nil
}

// probeTLS finds out why a TLS connection was dropped during CONNECT. With
// TLS 1.3 the client finishes its handshake before the broker has checked
// the client certificate; a refusal then arrives as an alert that paho
// rarely reads (its CONNECT write fails first with "connection reset").
// The probe completes a handshake and only reads: a broker that refuses
// the certificate sends its alert, one that accepts it waits for CONNECT.
// It returns the alert, or nil when there is none.
func (p *Publisher) probeTLS(ctx context.Context) error {
	if p.tls == nil {
		return nil
	}
	switch p.broker.Scheme {
	case "ssl", "tls", "mqtts":
	default:
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	d := tls.Dialer{Config: p.tls.Clone()}
	conn, err := d.DialContext(ctx, "tcp", p.broker.Host)
	if err != nil {
		if isTLSError(err) {
			return err
		}
		return nil
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil && isRemoteAlert(err) {
		return err
	}
	return nil
}

// Check makes one connection attempt and disconnects. A nil error means the
// broker accepted the configuration; Permanent(err) says the user must fix
// something (credentials, certificates) rather than wait for the network.
func (p *Publisher) Check(ctx context.Context) error {
	c, err := p.dial(ctx, false)
	if err != nil {
		return err
	}
	c.client.Disconnect(100)
	return nil
}

// Run connects, publishes, and reconnects with backoff until ctx is done;
// then it publishes the offline status, disconnects and returns nil.
func (p *Publisher) Run(ctx context.Context) error {
	attempt := 0
	connectedOnce := false
	for ctx.Err() == nil {
		c, err := p.dial(ctx, true)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			p.setError(err)
			wait := p.cfg.backoff(attempt, Busy(err))
			lvl := slog.LevelWarn
			if Permanent(err) {
				lvl = slog.LevelError
			}
			p.log.Log(ctx, lvl, "connect failed", "err", err, "retry_in", wait.Round(time.Millisecond))
			attempt++
			sleep(ctx, wait)
			continue
		}
		if connectedOnce {
			p.reconnects.Add(1)
		}
		connectedOnce = true
		start := time.Now()
		p.log.Info("connected", "client_id", p.cfg.clientID())
		err = p.session(ctx, c) // sets connected
		p.setConnected(false)
		if ctx.Err() != nil {
			break
		}
		p.setError(err)
		// A connection that lived a while resets the backoff; one that
		// drops at once (e.g. an ACL kick) keeps backing off.
		if time.Since(start) > 10*p.cfg.BackoffMin {
			attempt = 0
		}
		wait := p.cfg.backoff(attempt, false)
		attempt++
		p.log.Warn("connection lost", "err", err, "retry_in", wait.Round(time.Millisecond))
		sleep(ctx, wait)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// openConn dials the broker like paho does (without its proxy support),
// under a batchConn that saves most of paho's read and write syscalls.
func (p *Publisher) openConn(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: p.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	var (
		c   net.Conn
		err error
	)
	if p.tls != nil {
		c, err = tls.DialWithDialer(d, "tcp", uri.Host, p.tls.Clone())
	} else {
		c, err = d.Dial("tcp", uri.Host)
	}
	if err != nil {
		return nil, err
	}
	return newBatchConn(c, p.cfg.ConnectTimeout), nil
}
