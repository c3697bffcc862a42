// Package pir reads a passive-infrared motion sensor module on one GPIO
// input, such as the HC-SR501 built on the BISS0001 controller.
//
// The module's output goes high when its pyroelectric element sees a change
// in infrared (a warm body moving across its zones) and stays high for the
// hold time Tx set on its potentiometer (about 3 s to 300 s on the
// HC-SR501; boards vary). In repeatable-trigger mode (jumper H) each new
// motion restarts Tx, so the output stays high while motion goes on and
// falls Tx after the last of it. In single-trigger mode (jumper L) it falls
// Tx after the first motion whatever happens next. After falling, the module
// is blind for the block time Ti (about 2.5 s). Opts describe that setting;
// Module models it for simulators. Allow about a minute after power-up
// before trusting the output: the module settles and may trigger by itself.
//
// The driver debounces the output and reports episodes: a start when the
// output rises and an end when it falls. Each end carries LastMotion, the
// best estimate of the last motion: At - Hold in repeatable mode. In
// single-trigger mode a rise soon after a fall (within 1.5 x Block) is the
// module re-arming while motion goes on, so it continues the episode, and
// the end is reported only once that time has passed.
//
// # What a PIR says about dwell
//
// A PIR senses motion, not presence. A shopper standing still in front of a
// shelf, reading a label, stops producing triggers and drops out Hold
// later, even though they are still there; a long stop-by may show as
// several episodes separated by short gaps (Hold + Block at least). And the
// high time of the output overestimates the presence it did see by up to
// Hold: the output stays high Hold after the last motion, when the shopper
// may have left. End.LastMotion removes that bias in repeatable mode; in
// single-trigger mode the output says even less. Use a short Hold for dwell
// measurement, and prefer a distance sensor where stillness matters.
//
// Timestamps come from Opts.Now when the watching goroutine wakes; periph's
// gpio.PinIn does not expose the kernel's edge timestamps.
package pir
