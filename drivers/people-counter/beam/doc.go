// Package beam drives a pair of infrared break-beam sensors across a doorway
// or a path, each receiver wired to one GPIO input: beam a on the street
// side, beam b on the store side, a few centimetres apart. Someone walking in
// blocks a before b; walking out, b before a.
//
// There is no datasheet protocol: a receiver is a photo-transistor stage
// with a digital, usually open-collector, output. What matters is its
// polarity (Opts.ActiveLow, see DefaultOpts) and the pull it needs.
//
// # How changes are found
//
// Both inputs are armed for both edges. One goroutine per input waits for
// edges (WaitForEdge, always with a positive timeout so that Halt is
// noticed on every periph back-end) and reads the level after each. A level
// is reported once the line has stayed quiet for Opts.Debounce; blocks
// shorter than that, such as electrical glitches and contact bounce, are
// dropped. Change.At is the time of the first edge of the burst that led to
// the new level, so the order of a and b survives the debounce delay, and
// changes are released in non-decreasing At order across both beams.
// Between bursts the inputs are re-read every 250 ms, so a level that moved
// without an edge (a lost interrupt) is still caught.
//
// Timestamps come from Opts.Now when the goroutine wakes, not from the
// kernel's edge timestamp (periph's gpio.PinIn does not expose it), so they
// carry the wake-up latency of the host: typically well under a
// millisecond, more on a loaded Pi.
//
// Levels reads both inputs directly, undebounced, for aligning the beams.
package beam
