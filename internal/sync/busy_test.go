package sync

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// refusingBroker answers every CONNECT with CONNACK return code code and
// closes the connection, counting the attempts.
func refusingBroker(t *testing.T, code byte) (url string, attempts *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	attempts = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				if _, err := readPacket(c); err != nil {
					return
				}
				_, _ = c.Write([]byte{0x20, 0x02, 0x00, code})
				time.Sleep(10 * time.Millisecond)
			}()
		}
	}()
	return "tcp://" + ln.Addr().String(), attempts
}

// A broker that says "server unavailable" (busy, over quota) is retried
// after a delay drawn from the whole backoff_max window, not hammered at
// backoff_min; one that refuses for another reason backs off from
// backoff_min as usual.
func TestBusyBrokerNotHammered(t *testing.T) {
	count := func(code byte) int64 {
		url, attempts := refusingBroker(t, code)
		cfg := testConfig(url)
		cfg.BackoffMin, cfg.BackoffMax, cfg.ReconnectSpread = time.Millisecond, 2*time.Second, 0
		p := newPublisher(t, cfg, newMemOutbox())
		stop := runPublisher(t, p)
		time.Sleep(2 * time.Second)
		stop()
		if code == 3 && !strings.Contains(p.Status().LastError, ErrServerUnavailable.Error()) {
			t.Errorf("last error %q, want server unavailable", p.Status().LastError)
		}
		return attempts.Load()
	}
	// 2 s of delays uniform over [0, 2 s]: about 2 attempts; 7 would take
	// seven draws summing under 2 s (probability 1/5040)
	if n := count(3); n < 1 || n > 7 {
		t.Errorf("busy broker: %d connect attempts in 2s, want 1..7", n)
	}
	// bad credentials (permanent, but retried): the window doubles from
	// 1 ms, so the first ten attempts come within about a second
	if n := count(4); n < 9 {
		t.Errorf("refusing broker: %d connect attempts in 2s, want at least 9 (backing off from backoff_min)", n)
	}
}
