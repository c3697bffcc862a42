// Package fleet simulates a fleet of stores in one process: N real agents
// (each its own config, bbolt outbox, MQTT client id, status and Last
// Will, the real pipeline and publisher) fed by simulated pulse counters at
// an accelerated clock, against one broker that goes away for a shared
// outage and comes back. A consumer subscribed like the cloud's counts what
// arrives, deduplicated by message id, and the summary says what was
// committed, delivered, lost or duplicated, how the reconnect storm spread
// and how fast the backlog drained. See docs/FLEET.md.
package fleet

import (
	"sync"
	"time"
)

// Clock is the fleet's accelerated time, shared by every simulated store:
// store time runs Speedup times faster than real time. It satisfies
// agent.Clock. Network behaviour (reconnect delays, backlog_rate, timeouts)
// stays in real time: only what happens in the store is accelerated.
type Clock struct {
	speedup  float64
	real0    time.Time // time.Now() at the start, with its monotonic reading
	wall0    time.Time // store wall time at the start
	mu       sync.Mutex
	frozen   bool
	frozenAt time.Duration // store time elapsed when frozen
}

// NewClock starts a clock at wall (the store's wall time now) running
// speedup times faster than real time.
func NewClock(wall time.Time, speedup float64) *Clock {
	return &Clock{speedup: speedup, real0: time.Now(), wall0: wall.Round(0)}
}

// Elapsed is the store time since the start.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.frozenAt
	}
	return time.Duration(float64(time.Since(c.real0)) * c.speedup)
}

// Now is the start plus the elapsed store time; it keeps the monotonic
// reading, so the agent's t.Sub(origin) is store time.
func (c *Clock) Now() time.Time { return c.real0.Add(c.Elapsed()) }

// At is the Now value of store time d after the start.
func (c *Clock) At(d time.Duration) time.Time { return c.real0.Add(d) }

// Wall is the store's wall clock.
func (c *Clock) Wall() time.Time { return c.wall0.Add(c.Elapsed()) }

// Synced is always true: the simulated stores' clocks are trusted.
func (c *Clock) Synced() bool { return true }

// RealOf is the real time at which the store's wall clock showed w.
func (c *Clock) RealOf(w time.Time) time.Time {
	return c.real0.Add(time.Duration(float64(w.Sub(c.wall0)) / c.speedup))
}

// Freeze stops store time: no window closes any more, so the outboxes can
// empty and the totals settle.
func (c *Clock) Freeze() {
	d := c.Elapsed()
	c.mu.Lock()
	c.frozen, c.frozenAt = true, d
	c.mu.Unlock()
}

// Real converts a store-time duration to real time.
func (c *Clock) Real(d time.Duration) time.Duration { return time.Duration(float64(d) / c.speedup) }
