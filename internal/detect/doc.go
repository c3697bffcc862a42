// Package detect turns one sensor's raw readings into events (entries,
// exits, passers-by...). It is pure code over the readings' timestamps: no
// wall clock, no I/O, no allocation per reading once running, so the same
// readings always give the same events, live or replayed.
//
// New(spec, index) builds the detector for spec.Kind and validates the
// kind's keys in spec.Params: an unknown key is an error naming it and
// listing the known ones; a bad value is an error naming the key and value.
// A kind with no detector yet gets "kind X is not supported yet". Other
// kinds plug in by adding an entry (keys + constructor) to the kind table.
//
// # People counting (tof-2zone, beam-pair)
//
// Each side of the line (ToF zone z0/z1, beam a/b) is turned into
// occupancies ("blobs": someone under that zone, that beam blocked). A
// person walking in makes a z0 blob, then a z1 blob that starts after it,
// ends after it, and starts at most max_gap_ms after it ended; the reverse
// is an exit; for role passerby either is a passer-by. A crossing is decided
// when its second blob ends, by pairing it with the oldest unused blob of
// the other side, so people in single file (the next already under z0 while
// the first is still under z1) are each counted. What is not counted:
//
//   - U-turns and lingerers who go back: the far-side blob is nested in the
//     near-side one (starts after it and ends before it);
//   - arm swing and glitches: short blobs on one side, nested blobs, and,
//     for beams, a blob that began on the other side before this side
//     cleared once a crossing is counted (a hand trailing the body);
//   - ToF: the two blobs must have seen the same height (nearest distances
//     within match_mm; a single spurious short range cannot fake the second
//     nearest); a blob of fewer than min_readings (a runner sampled once at
//     66 ms a zone, or a glitch) pairs only with a short, consistent blob of
//     the other zone; invalid readings (-1) are skipped.
//
// ToF baseline: without baseline_z0_mm/baseline_z1_mm, each zone learns its
// idle (floor) distance as the median of its first learn_readings valid
// readings (no events until both are known), then follows slow drift while
// nobody is under it, jumps when the floor is clearly farther for
// learn_readings readings, and relearns after an occupancy longer than
// max_presence_ms (a box left under the sensor).
//
// Beams and pulse lines deliver only changes, so a change is confirmed by
// the next reading or by Flush once debounce_ms have passed: callers Flush
// on a timer of reading time (e.g. every 100 ms) to get events promptly.
// Events are stamped with the reading time at which they became certain.
//
// # Beam state machine (beam-pair)
//
// Each beam is clear or blocked. A block begins when the beam has stayed
// blocked debounce_ms (electrical glitches are shorter) and ends only when
// it has stayed clear bridge_ms: a real body clears a beam for 6-40 ms one
// to three times while it passes (between arm and torso, a swinging bag,
// loose clothing), so a shorter clear is the same body, while people in
// single file leave at least a few hundred ms between them (0.45 m at
// walking speed). A block shorter than min_block_ms in all, gaps included,
// is a hand or an arm (8-30 ms ahead of the body), never a person: the
// shortest body, 22 cm at 1.8 m/s, blocks a beam 120 ms. The finished
// blocks are then paired as above, with two refinements for the edges a
// hand or a gap can move:
//
//   - a block's start, for the order of the beams, is its onset: when it had
//     been blocked 35 ms in all, less 35 ms. A hand bridged into the block
//     moves it by its own length only, not by how far it led the body;
//   - the two blocks' starts, or ends, may disagree with the direction by
//     less than skew_ms (a hand bridged at one beam's edge): a person went
//     the way both edges agree within skew_ms and their sum points to. A
//     far-side block nested by skew_ms or more at both edges is a U-turn or
//     a lingerer who went back, and counts nothing; keep skew_ms below the
//     beam spacing over the fastest walker (8 cm at 1.8 m/s: 44 ms).
//
// Tailgaters whose clear gap is shorter than bridge_ms and people side by
// side make one block on each beam and count once: a beam pair counts
// between one per merged block and the true number of people (see
// sim.World.Separable). On the simulated doorways it never counts more; at
// a door where many turn back, skew_ms lets a few U-turns through (about
// 2 % with 30 % U-turners): docs/PERFORMANCE.md.
//
// # Keys
//
// tof-2zone (VL53L1X, two zones along the walking direction):
//
//	key               default  range          meaning
//	baseline_z0_mm    learned  200..4000      calibrated idle (floor) distance of zone z0
//	baseline_z1_mm    learned  200..4000      calibrated idle (floor) distance of zone z1
//	threshold_mm      300      50..3000       occupied when this much shorter than the baseline
//	hysteresis_mm     100      0..1000        clear again only within threshold_mm-hysteresis_mm of the baseline
//	min_readings      2        1..20          fewer occupied readings: pairs only with a short, consistent blob
//	match_mm          350      0..3000        the two zones' nearest distances (the head) must agree this well
//	release_readings  2        1..20          consecutive clear readings that end an occupancy
//	min_presence_ms   0        0..10000       shortest occupancy that counts
//	max_gap_ms        200      0..5000        other zone may first see the person this long after one cleared
//	max_invalid_ms    2000     100..60000     invalid (or silent) longer than this closes an occupancy
//	max_presence_ms   120000   1000..3600000  longer is an obstruction: dropped, baseline relearned
//	learn_readings    16       3..1000        readings per zone whose median is the learned baseline
//
// beam-pair (two IR break beams a few cm apart):
//
//	key               default  range          meaning
//	debounce_ms       6        0..1000        a block begins only if the beam stays blocked this long
//	max_gap_ms        100      0..5000        other beam may first be blocked this long after one cleared
//	bridge_ms         45       0..500         a clear shorter than this inside a block is the same body
//	min_block_ms      40       0..1000        a shorter block (gaps bridged) is a hand, not a body
//	skew_ms           35       0..200         one edge of the two blocks may disagree with the direction by less
//	max_presence_ms   120000   1000..3600000  a beam blocked longer is obstructed: counts nothing
//
// pulse (a commercial counter's in/out or pass outputs; one active pulse
// per person; in → entry, out → exit at an entrance, any → passer-by):
//
//	key               default  range          meaning
//	min_pulse_ms      20       1..10000       shortest active pulse that counts
//	debounce_ms       5        0..1000        a change counts only if the new level holds this long
//
// Params(kind) returns the same table for tools.
package detect
