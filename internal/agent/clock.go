package agent

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Clock is the agent's view of time. Now carries Go's monotonic reading, so
// t.Sub(origin) is immune to wall-clock steps: readings are stamped with it.
// Wall is the wall clock, which windows are aligned to once Synced says it
// can be trusted.
type Clock interface {
	Now() time.Time
	Wall() time.Time
	Synced() bool
}

// SystemClock is the host clock. A Pi has no RTC: after a power cut it boots
// with the time fake-hwclock saved, until NTP sets it. The kernel knows
// whether a time daemon has synchronized it (adjtimex STA_UNSYNC clear);
// systemd-timesyncd also leaves a flag file.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Wall returns the wall clock.
func (SystemClock) Wall() time.Time { return time.Now().Round(0) }

// Synced reports whether the kernel or timesyncd consider the clock
// synchronized.
func (SystemClock) Synced() bool {
	if _, err := os.Stat("/run/systemd/timesync/synchronized"); err == nil {
		return true
	}
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
}

// TrustedClock is the host clock taken as synchronized (clock.require_sync:
// false, the demo, hosts whose time daemon does not tell the kernel).
type TrustedClock struct{}

// Now returns time.Now.
func (TrustedClock) Now() time.Time { return time.Now() }

// Wall returns the wall clock.
func (TrustedClock) Wall() time.Time { return time.Now().Round(0) }

// Synced always reports true.
func (TrustedClock) Synced() bool { return true }
