// Package pulse reads the pulse outputs of a commercial people counter
// (overhead stereo or thermal counters, door counters) wired to GPIO inputs:
// most offer dry-contact (relay) or open-collector outputs, one line per
// direction ("in", "out") or one for passers-by ("pass"), giving one active
// pulse per person.
//
// An active pulse of at least Opts.MinPulse is one person; anything shorter
// is a glitch (counted in Stats, not reported). Levels are debounced first
// (Opts.Debounce, default 5 ms) so that relay contact bounce at the start
// or end of a pulse does not split it. Pulse.Start and Pulse.End are the
// first edges of the bursts that opened and closed the pulse. Pulses of all
// lines come from Next in non-decreasing End order.
//
// Check the counter's manual for the pulse width (often configurable,
// 50 ms to 500 ms) and keep MinPulse well below it. A line already active
// when New runs has no known start: its first end is not a pulse.
//
// Timestamps come from Opts.Now when the watching goroutine wakes; periph's
// gpio.PinIn does not expose the kernel's edge timestamps.
package pulse
