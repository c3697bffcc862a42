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

// backoff is the delay before reconnect attempt n (0-based): doubling from
// min, capped at max, with "equal jitter" (half fixed, half random) so a
// fleet of agents does not reconnect in step after a broker restart.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}
