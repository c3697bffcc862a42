// Package plate keeps a smart plate's tag holding what it should: the
// plate's next one-time coupon URL (drivers/nfc/plateurl) after every tap,
// or the static content the cloud set, written through ndef.EncodeURI and
// the NTAG's WriteNDEF only while no phone is on the plate.
//
// # Counters never repeat
//
// A one-time URL carries a counter. The controller reserves counters in
// blocks (Options.Reserve, 64 by default): before it signs a URL with a
// counter at or above the reserved bound it raises the bound by a block and
// writes it to its state file (state_dir/plates/<plate>.json) durably —
// written to a temporary file, fsynced, renamed over the old one, the
// directory fsynced. Only then is a URL with that counter written to the
// tag. After a restart (clean or not) counting resumes at the persisted
// bound, so at most one block is skipped per restart and no counter is
// issued twice. A fresh state file (first start, or a state_dir lost in a
// reinstall) starts at the wall clock in milliseconds since 1970: above
// every counter an earlier installation could have issued, as long as the
// clock was right and fewer than 1000 counters a second were used. A state
// file that cannot be read is moved aside and counting starts the same way.
//
// One process at a time: Open takes an exclusive flock on
// <plate>.lock, so the CLI cannot write a plate the daemon is driving.
//
// # When the tag is written
//
// Service is called by the plate's source with the field state it sees. A
// field that comes on is a phone (or a sweep past); once the field has been
// off for Options.Quiet (the tap detector's merge_ms, so a phone wobbling
// at the edge of range reads one URL) the next URL is written. If the phone
// holds the memory (RF_LOCKED) the write is retried at the next Service
// with the same URL. Content set by SetContent is persisted first, then
// written at once when the field is off, else once it is.
package plate
