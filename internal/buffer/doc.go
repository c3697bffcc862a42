// Package buffer is the agent's durable outbox: closed aggregates are
// committed to a bbolt file before they are published, and deleted only when
// the publisher acks them.
//
// Writes are group-committed: the pipeline goroutine stages records (and the
// aggregator's state) in memory and calls Commit every FlushInterval or once
// FlushRecords are staged. One Commit is one bbolt read-write transaction,
// fsynced by bbolt (NoSync is never used), so an SD card sees one durable
// commit per flush rather than one per record. Acks from the publisher ride in
// the next commit and never cause a commit of their own.
//
// On disk there are three buckets: "records" (key: seq as big-endian uint64,
// so bbolt iterates in seq order; value: CRC-32C, commit time, topic,
// payload), "state" (opaque values set with SetState) and "meta" (format
// version, last seq, dropped counter).
//
// The outbox is bounded by MaxBytes: when a commit would exceed it, the oldest
// records are deleted first and counted in a persistent Dropped counter.
//
// A db file that cannot be opened or fails the consistency check at Open is
// renamed aside with a timestamp suffix, logged, and replaced by a fresh one;
// panics and memory faults from bbolt on corrupt pages are recovered.
package buffer
