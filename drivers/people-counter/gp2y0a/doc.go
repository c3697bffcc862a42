// Package gp2y0a converts the analog output of Sharp GP2Y0A-series infrared
// distance sensors to distances, and reads them through an ADC channel (for
// instance an MCP3008, package mcp3008).
//
// These sensors triangulate: an IR LED spot falls on a position-sensitive
// detector, and the output voltage rises as the target comes closer,
// roughly linearly in 1/distance. Built-in curves follow the datasheets of
// the GP2Y0A21YK0F (10 to 80 cm; VO = 0.4 V typ at 80 cm, 1.9 V typ change
// from 80 to 10 cm) and the GP2Y0A02YK0F (20 to 150 cm; VO = 0.4 V typ at
// 150 cm, 2.05 V typ change from 150 to 20 cm), with intermediate points
// read off their typical characteristic figures. Between points the curve
// is interpolated linearly in 1/distance. NewCurve takes a calibrated curve
// for a particular unit, which is worth doing: both datasheets allow
// 0.25 to 0.55 V at the far end and +-0.25 V on the output change.
//
// An output outside the curve has no valid range: below it, nothing is in
// range (Status TooFar); above it, something is closer than the minimum
// distance (TooClose). Closer still the output falls again and is
// ambiguous, so mount the sensor with the minimum distance kept clear.
//
// Operating notes from the datasheets: supply 4.5 to 5.5 V; one measurement
// every 38.3 ms +-9.6 ms, so reading faster returns the same value; the
// first output after power-up is unstable; the LED draws current pulses, so
// put a bypass capacitor (10 uF or more) near the sensor. The output stays
// below about 3.1 V, within an MCP3008 at VREF = 3.3 V.
package gp2y0a
