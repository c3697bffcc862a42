package sync

import (
	"math/rand/v2"
	"time"
)

// limiter is a token bucket for the backlog drain: rate messages per second
// with a burst of a tenth of a second's worth (at least one).
type limiter struct {
	rate   float64 // 0 = unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, now time.Time) *limiter {
	b := rate / 10
	if b < 1 {
		b = 1
	}
	return &limiter{rate: rate, burst: b, tokens: b, last: now}
}

// delay is how long until one message may go; 0 = now.
func (l *limiter) delay(now time.Time) time.Duration {
	if l.rate == 0 {
		return 0
	}
	if dt := now.Sub(l.last); dt > 0 {
		l.tokens += dt.Seconds() * l.rate
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
		l.last = now
	}
	if l.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}

// take spends one message (after delay said 0).
func (l *limiter) take() {
	if l.rate != 0 {
		l.tokens--
	}
}

// reconnectWindow is the longest delay before reconnect attempt n
// (0-based): doubling from BackoffMin, never below ReconnectSpread, capped
// at BackoffMax. A broker that said it is busy (busy) gets the cap at once.
func (c Config) reconnectWindow(n int, busy bool) time.Duration {
	w := c.BackoffMin
	for i := 0; i < n && w < c.BackoffMax; i++ {
		w *= 2
	}
	if busy {
		w = c.BackoffMax
	}
	w = max(w, c.ReconnectSpread)
	return min(w, c.BackoffMax)
}

// backoff is the delay before reconnect attempt n with "full jitter":
// uniform over the whole window above half of BackoffMin (never an
// immediate retry, and at the first attempt still a spread), so a fleet
// that lost its broker at the same instant comes back spread evenly over
// the window rather than in waves (N agents make about 2N/window attempts
// per second at most).
func (c Config) backoff(n int, busy bool) time.Duration {
	w := c.reconnectWindow(n, busy)
	floor := c.BackoffMin / 2
	return floor + rand.N(w-floor+1)
}
