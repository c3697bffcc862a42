// Package pintest provides Pin, a fake GPIO input line that behaves like a
// line requested through the Linux GPIO character device, for driver tests
// and for the simulated store the demo runs.
//
// A simulator goroutine drives the line with Set (or lets it go with Release,
// after which it follows the configured pull, as an open-collector output
// does when it switches off); drivers see it through periph's gpio.PinIn.
//
// # Edge semantics
//
// Each level change that matches the edge kind given to In is queued, like an
// event in gpiolib-cdev's per-line FIFO: an edge that happened while nobody
// waited is still reported, once, by the next WaitForEdge. The queue holds
// QueueLen events (16 by default, the kernel's default buffer for one line);
// when it is full the oldest event is dropped, as linereq_put_event does, and
// Stats counts the drop. Read always returns the current level, not the
// level of the edge being reported. In empties the queue and ends waits in
// progress (WaitForEdge returns false), as periph documents. Halt ends waits
// in progress without touching the queue (like host/v3's gpioioctl, whose
// Halt expires the read deadline); Close ends them for good.
//
// WaitForEdge(-1) waits with no timeout and WaitForEdge(0) only polls the
// queue, as periph's gpio.PinIn documents. Real back-ends differ here:
// host/v3's gpioioctl treats 0 as "no timeout" and -1 as an already expired
// deadline, so portable drivers in this module always pass a positive
// timeout and re-check their own stop flag between waits.
//
// # Why not periph's gpiotest.Pin
//
// periph.io/x/conn/v3/gpio/gpiotest.Pin is built around a caller-owned
// EdgesChan: an edge is only "seen" if the test sends it on the channel, the
// level returned by Read changes only when WaitForEdge consumes the edge
// (so Read does not give the current level of the wire), edge kinds given to
// In are not applied, In fails without a channel, WaitForEdge(-1) cannot be
// woken by Halt (a goroutine blocked in it leaks) and nothing counts what
// happened. It also imports github.com/jonboulle/clockwork, which this module
// does not depend on. A runtime simulator needs a line whose level is the
// truth and whose edges follow from level changes; that is this package.
//
// Every method is safe for concurrent use.
package pintest
