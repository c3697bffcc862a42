// Package sim is the simulated doorway: a deterministic physical model of
// people crossing a sensed line (a shop door, or a path along the shop
// window), what the people-counting sensors physically see of them, and the
// ground truth to judge detection against.
//
// A World is built once from a Config (New); the same Config (and Seed)
// always gives the same world. Its queries are pure functions of their
// arguments, safe for concurrent use, and cheap enough (about 50 ns a ToF
// sample) for the demo's chip emulators to call at run time:
//
//   - ZoneDistance(zone, t): what a ceiling VL53L1X ranges in ROI zone z0
//     (street side) or z1 (store side): the floor, the nearest head or
//     shoulders, or -1 (invalid range). Noise, invalid ranges and spurious
//     ranges come from hashing (seed, zone, t), not from a stateful RNG, so
//     any sampling order gives the same values.
//   - BeamBlocked(beam, t): IR break beam a (street side) or b (store side).
//   - PulseActive(line, t): a commercial counter's in/out/pass output.
//   - Truth(from, to): entries, exits (door) or passers-by (storefront)
//     completed in [from, to). U-turners and lingerers who go back count
//     nothing.
//   - Readings(kind, idx, dst) and WriteTrace(w, start, sensors...): what a
//     driver delivers over the whole world, as sensor.Readings or as a
//     trace-v1 file (ToF zones sampled alternately, one ranging every
//     ToFPeriodMs; beams and pulse lines as changes only).
//
// # Model
//
// x is the walking axis in mm, growing from the street side to the store
// side, with the sensor (and the middle of the beam pair) at x = 0. People
// arrive as Poisson parties (ArrivalsPerMin); a party is one person or a
// group walking single file 0.3-1 s apart (never closer than 0.45 m
// between bodies). Each person has a direction, a behaviour (cross, U-turn
// at a drawn depth, linger 2-12 s under the sensor swaying a little then go
// on or back), a height (adults 1.5-1.95 m, children 0.9-1.3 m), a speed
// (walkers 1.0-1.6 m/s, runners 2.5-3.5 m/s, dawdlers 0.4-0.7 m/s) and a
// piecewise-linear path. The door admits one flow at a time: someone meeting
// an opposite flow, a U-turner or a lingerer waits until the doorway is free.
//
// ToF: the VL53L1X's 27° field of view is split into two zones of 13.5°
// along x. A body part (head ±100 mm at the person's height, shoulders
// ±150 mm at 0.82 of it; children narrower) is seen by a zone when it fills
// at least 20 % of the zone's width at its own distance; the zone reports
// the nearest part seen (several people: the nearest of all). Noise is
// Gaussian (NoiseMM); invalid ranges are likelier with a person under the
// zone (PInvalidPerson) than over the bare floor (PInvalidEmpty); a spurious
// range (PGlitch) is a random distance. A child narrower than the zones'
// overlap is seen by one zone at a time.
//
// Beams: at BeamHeightMM (default 0.7 m, so children block them), beam a at
// x = -BeamSpacingMM/2 and b at +BeamSpacingMM/2; a person blocks a beam
// while it is within ±130 mm (children ±90 mm) of the body's centre.
// Electrical glitches invert a beam for 1-5 ms (BeamGlitchPerMin).
//
// Arm swing (PFlicker): 1-3 brief hits (20-70 ms) per person on the
// neighbouring zone or beam while the body is under one side only (ToF: a
// hand at 0.48 of the person's height; beams: the hand cuts the other beam,
// or the nearer one as the person comes or goes).
//
// Pulse: the counter pulses PulseWidthMs once per completed crossing,
// 50-150 ms after it, queued when crossings come faster than pulses, with
// contact bounce at the edges (PBounce) and rare 1-3 ms spikes.
//
// Real doorways (doorway.go, each off when its Config field is zero, so
// the other scenarios are unchanged): walkers' speed range (SpeedMinMMs..
// SpeedMaxMMs) and adults' body depth at beam height (DepthMinMM..
// DepthMaxMM); clear gaps inside a body's block of a beam (PInteriorGaps:
// 1-3 gaps of 6-40 ms anywhere inside it: arm and torso, a bag, loose
// clothing); a hand that cuts the first beam for 8-30 ms starting 40-120 ms
// before the body does, and the second beam the same time ahead (±5 ms)
// six times in ten (PLeadFlicker); tailgating pairs whose bodies are
// 0-60 mm apart at the same speed (PTailgate) and pairs walking abreast
// (PSideBySide, within ±60 mm along x), who make one block on a beam.
//
// Separable(from, to) is Truth without the second person of such a pair
// (Person.Follows: less than SeparableGapMM behind, or abreast): a line
// sensor that cannot tell them apart should count between Separable and
// Truth, never more than Truth.
//
// Named scenarios (Scenario, ScenarioNames) are one hour each: single-file,
// fast, slow, lingering, u-turns, children, noise, arm-flicker, storefront,
// mixed-hour, and the real doorways doorway (a door, 5 parties a minute)
// and doorway-storefront (20 a minute). Config.Visits scripts exact people
// for focused tests.
//
// Not modelled: more than two abreast, carts and prams, reflective floors,
// sunlight. Real sensors will be worse in those ways; the accuracy figures
// are for this model.
package sim
