package sync_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"

	"github.com/omo-edge/edge-agent/internal/sync"
)

// outbox stands for the agent's adapter over buffer.Outbox.
type outbox struct{}

func (outbox) Pending(after uint64, max int) ([]sync.Record, error) { return nil, nil }
func (outbox) Ack(seqs ...uint64)                                   {}
func (outbox) Committed() <-chan struct{}                           { return nil }
func (outbox) LastSeq() uint64                                      { return 0 }

// The daemon checks the upstream once at start: a configuration error
// (credentials, certificates) stops it, an unreachable broker does not.
func Example() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := sync.DefaultConfig()
	cfg.Broker = "ssl://a1b2c3.iot.eu-west-1.amazonaws.com:8883"
	cfg.StoreID, cfg.AgentID = "store-7", "pi-1"
	cfg.TLS = sync.TLSConfig{
		CAFile:   "/etc/edge-agent/AmazonRootCA1.pem",
		CertFile: "/etc/edge-agent/device.pem.crt",
		KeyFile:  "/etc/edge-agent/private.pem.key",
	}
	p, err := sync.New(cfg, outbox{}, log,
		sync.WithHealth(func() any { return map[string]any{"ok": true} }),
		sync.WithCommands(func(name string, payload []byte) []byte {
			if name == "ping" {
				return []byte(`{"pong":true}`)
			}
			return nil
		}))
	if err != nil {
		log.Error("upstream config", "err", err) // names the field or file
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := p.Check(ctx); sync.Permanent(err) {
		log.Error("broker refused us", "err", err)
		os.Exit(1)
	} else if errors.Is(err, sync.ErrUnreachable) {
		log.Warn("broker unreachable, buffering", "err", err)
	}
	_ = p.Run(ctx) // until SIGINT: then "offline" and a clean disconnect
}
