// Package edge is the part the GPIO people-counter drivers (beam, pulse,
// pir) share: Lines, the pure core that debounces several inputs and
// releases their changes in time order, and Watcher, the goroutines that
// wait for edges on the pins, feed a pure core and queue what it releases
// for a driver's Next.
//
// It is internal so that the drivers can change it together; their public
// types stay in their own packages.
package edge
