package sync

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/ratelimit"
)

// Bounds on what the cloud's commands can make the agent do, whatever
// arrives on cmd/+ (a flood of bad commands, a compromised cloud
// account): see docs/RELIABILITY.md, "Command flood".
const (
	// MaxCommandBytes: a larger payload is refused before it is copied or
	// decoded. The commands the agent answers are well under 4 KiB.
	MaxCommandBytes = 64 << 10
	// commandReplyRate and commandReplyBurst bound the replies per second;
	// replies over the rate are dropped and counted (Status.Commands).
	commandReplyRate  = 20
	commandReplyBurst = 40
	// commandLogRate and commandLogBurst bound the command path's log
	// lines (handlers included, through WithCommandLog); the suppressed
	// ones are counted in the next line let through.
	commandLogRate  = 5
	commandLogBurst = 20
	// maxReplyTopic: a reply topic longer than this (a command name from
	// the cloud of some 200 bytes) is not answered: AWS IoT Core closes the
	// connection of a client that publishes to a topic over 256 bytes.
	maxReplyTopic = 256
)

// CommandStats counts the command traffic since start.
type CommandStats struct {
	Received uint64 `json:"received"`
	// TooLarge were refused unread for being over MaxCommandBytes.
	TooLarge uint64 `json:"too_large"`
	// Busy were refused because maxCommands handlers were running.
	Busy    uint64 `json:"busy"`
	Replies uint64 `json:"replies"`
	// RepliesDropped were over the reply rate and not sent.
	RepliesDropped uint64 `json:"replies_dropped"`
}

type commandCounters struct {
	received, tooLarge, busy, replies, repliesDropped atomic.Uint64
}

func (c *commandCounters) stats() CommandStats {
	return CommandStats{
		Received: c.received.Load(), TooLarge: c.tooLarge.Load(), Busy: c.busy.Load(),
		Replies: c.replies.Load(), RepliesDropped: c.repliesDropped.Load(),
	}
}

// NewCommandLog wraps log for the command path: a bounded rate of lines,
// with the count of suppressed ones. Give the same logger to the command
// handler and to WithCommandLog so both draw on one budget.
func NewCommandLog(log *slog.Logger) *slog.Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return slog.New(ratelimit.NewHandler(log.Handler(), ratelimit.Options{Rate: commandLogRate, Burst: commandLogBurst}))
}

// WithCommandLog makes the command path log through l (from
// NewCommandLog); without it the publisher rate-limits its own logger.
func WithCommandLog(l *slog.Logger) Option { return func(p *Publisher) { p.cmdLog = l } }

func newReplyBucket() *ratelimit.Bucket {
	return ratelimit.NewBucket(commandReplyRate, commandReplyBurst)
}

// publishReply sends a reply unless the reply rate is spent.
func (p *Publisher) publishReply(cl mqtt.Client, name string, b []byte) {
	if b == nil {
		return
	}
	topic := p.base + "reply/" + name
	if len(topic) > maxReplyTopic {
		p.cmdStats.repliesDropped.Add(1)
		p.cmdLog.Warn("command not answered: its reply topic would be too long", "command", TruncateName(name), "bytes", len(topic))
		return
	}
	if !p.replyBucket.Allow(time.Now()) {
		p.cmdStats.repliesDropped.Add(1)
		p.cmdLog.Warn("command reply dropped: over the reply rate", "command", TruncateName(name),
			"rate", fmt.Sprintf("%d/s", commandReplyRate))
		return
	}
	p.cmdStats.replies.Add(1)
	cl.Publish(topic, 1, false, b)
}

// TruncateName keeps a command name from the cloud log-sized (64 bytes).
func TruncateName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
