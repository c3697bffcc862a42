package sync

import (
	"math/rand/v2"
	"time"

	"github.com/omo-edge/edge-agent/internal/ratelimit"
)

// limiter paces the backlog drain: rate messages per second with a burst
// of a tenth of a second's worth (at least one); rate 0 = unlimited.
type limiter struct{ b *ratelimit.Bucket } // nil b: unlimited

func newLimiter(rate float64, now time.Time) limiter {
	if rate == 0 {
		return limiter{}
	}
	b := ratelimit.NewBucket(rate, max(rate/10, 1))
	b.Delay(now) // the bucket's clock starts now
	return limiter{b}
}

// delay is how long until one message may go; 0 = now.
func (l limiter) delay(now time.Time) time.Duration {
	if l.b == nil {
		return 0
	}
	return l.b.Delay(now)
}

// take spends one message at now (after delay said 0).
func (l limiter) take(now time.Time) {
	if l.b != nil {
		l.b.Allow(now)
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
