// Package ratelimit bounds what untrusted input can make the agent do per
// second: a token bucket (Bucket) for replies, and a slog.Handler
// (NewHandler) that passes a bounded rate of log lines and counts the ones
// it suppresses, so a flood of bad cloud commands can neither fill the SD
// card with logs nor the uplink with error replies.
package ratelimit

import (
	"context"
	"log/slog"
	gosync "sync"
	"time"
)

// Bucket is a token bucket: Burst events at once, refilled at Rate per
// second. It is safe for concurrent use.
type Bucket struct {
	rate, burst float64

	mu     gosync.Mutex
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket.
func NewBucket(rate, burst float64) *Bucket {
	return &Bucket{rate: rate, burst: burst, tokens: burst}
}

// refill adds the tokens earned since the last call; under mu.
func (b *Bucket) refill(now time.Time) {
	if !b.last.IsZero() {
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = min(b.burst, b.tokens+dt*b.rate)
		}
	}
	if now.After(b.last) {
		b.last = now
	}
}

// Allow spends a token if there is one at now.
func (b *Bucket) Allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// Delay is how long after now a token will be there (0: one is there
// now); it spends nothing. For a caller that waits instead of dropping.
func (b *Bucket) Delay(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// Handler passes records to the next handler at a bounded rate. The first
// record let through after some were suppressed carries their number
// ("suppressed"=N); when nothing follows a suppression, one "log lines
// suppressed" record reports the number after FlushAfter.
type Handler struct {
	next slog.Handler
	s    *state
}

// state is shared by a Handler and the handlers derived from it (With...),
// so they draw on one budget.
type state struct {
	bucket     *Bucket
	flushAfter time.Duration
	base       slog.Handler // for the summary record
	now        func() time.Time

	mu         gosync.Mutex
	suppressed uint64
	total      uint64
	timer      *time.Timer
}

// Options tune NewHandler; zero fields take the defaults.
type Options struct {
	Rate       float64          // lines per second (default 5)
	Burst      int              // lines at once (default 20)
	FlushAfter time.Duration    // summary delay (default 10 s)
	Now        func() time.Time // clock (default time.Now)
}

// NewHandler wraps next.
func NewHandler(next slog.Handler, o Options) *Handler {
	if o.Rate <= 0 {
		o.Rate = 5
	}
	if o.Burst <= 0 {
		o.Burst = 20
	}
	if o.FlushAfter <= 0 {
		o.FlushAfter = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{next: next, s: &state{bucket: NewBucket(o.Rate, float64(o.Burst)), flushAfter: o.FlushAfter, base: next, now: o.Now}}
}

// Suppressed is the number of records suppressed so far, in all.
func (h *Handler) Suppressed() uint64 {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.total
}

// Enabled defers to the next handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle passes r on, or counts it when over the rate.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	s := h.s
	if !s.bucket.Allow(s.now()) {
		s.mu.Lock()
		s.suppressed++
		s.total++
		if s.timer == nil {
			s.timer = time.AfterFunc(s.flushAfter, s.flush)
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	n := s.suppressed
	s.suppressed = 0
	s.mu.Unlock()
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Uint64("suppressed", n))
	}
	return h.next.Handle(ctx, r)
}

// flush reports suppressed records that no later record carried.
func (s *state) flush() {
	s.mu.Lock()
	n := s.suppressed
	s.suppressed = 0
	s.timer = nil
	s.mu.Unlock()
	if n == 0 {
		return
	}
	r := slog.NewRecord(s.now(), slog.LevelWarn, "log lines suppressed", 0)
	r.AddAttrs(slog.Uint64("suppressed", n), slog.Duration("within", s.flushAfter))
	if s.base.Enabled(context.Background(), slog.LevelWarn) {
		_ = s.base.Handle(context.Background(), r)
	}
}

// WithAttrs shares the budget.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), s: h.s}
}

// WithGroup shares the budget.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), s: h.s}
}
