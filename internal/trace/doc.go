// Package trace reads and writes sensor traces in the trace-v1 format
// (shared/contract/trace-v1.md): a `#` header naming the start time and the
// sensors, the column line `t_ms,sensor,channel,value`, then one raw reading
// per line.
//
// Every problem with a trace is reported as an *Error naming the 1-based line
// number, never as a panic. Where the format leaves room, this package
// decides as follows:
//
//   - Line ends are `\n`. A `\r` just before the `\n` (a trace saved by a
//     Windows editor) is stripped and the line is read as usual. The last
//     line may lack its `\n`.
//   - The first line must be exactly `# edge-agent-trace v1` (a UTF-8
//     byte-order mark in front of it is reported as such).
//   - In the header, `# start` must appear exactly once and be an RFC 3339
//     time with a zero UTC offset (`Z` or `+00:00`). `# sensor` lines are
//     parsed by sensor.NewSpec; kind-specific keys are kept in Spec.Params
//     for the detector to validate, with the line in Header.SensorLines.
//     Keys are letters, digits, '_', '-' and '.'; values are any run of
//     non-blank characters; a key given twice is an error. A
//     plate's `shelf=` must name a shelf sensor declared in the same header.
//     Any other `#` line is a comment, but a comment whose first word is
//     `start`, `sensor` or `edge-agent-trace` is read as that directive, so
//     a malformed one is an error rather than silently ignored.
//   - After the column line, `#` lines are comments and skipped, except
//     `# start` / `# sensor` / `# edge-agent-trace`, which are errors: a
//     sensor cannot be declared after readings began.
//   - A blank line is not a reading and not a comment: before the column
//     line it is reported as a missing column line, after it as an error.
//   - t_ms is a non-negative decimal integer, never decreasing. Values are
//     decimal int64: 0 or 1 for the level kinds (beam-pair, pulse, pir,
//     nfc-plate), >= -1 for the distance kinds (tof-2zone, tof-presence).
//     No signs other than a leading `-` on values, no spaces, no decimals.
//   - nfc-reader tokens are hex (either case, an even number of digits, at
//     least one byte). Reader.Next delivers them DECODED in Reading.Token
//     (the UID or token bytes, as a driver would) with Value 0; Writer
//     writes them back as lower-case hex. Token slices are carved out of
//     shared blocks, so they stay valid after later calls to Next and cost
//     no allocation per line.
//
// The reader parses bytes in place from a large bufio buffer and allocates
// nothing per reading; lines longer than MaxLineLen are an error.
package trace
