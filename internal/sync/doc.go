// Package sync is edge-agent's MQTT upstream: it publishes the outbox's
// records to the broker at QoS 1 and acks each one to the outbox only after
// its PUBACK arrived on the connection that sent it.
//
// Topics, under <prefix>/<store>/<agent>/:
//
//	<record.Topic>  e.g. agg/door, store   QoS 1, the record's payload
//	status          retained {"state":"online"|"offline","agent","store","ts"};
//	                "offline" is also the Last Will
//	health          retained JSON from WithHealth, every HealthInterval
//	cmd/<name>      in (QoS 1), answered by WithCommands' handler
//	reply/<name>    out: the handler's reply
//
// Delivery. paho's own reconnect resumes in-flight publishes and completes
// their tokens without error before any PUBACK (paho.mqtt.golang #563), so
// the publisher never uses it: every connection is a new clean-session
// client, and a record whose PUBACK did not arrive stays in the outbox and
// is sent again, with the same payload and id, on the next connection.
// Delivery is at least once; the payload's id lets the cloud drop duplicates.
// A PUBACKed record is acked to the outbox only AckSettle later, and sent
// again if the connection is lost first (settle.go: NATS acknowledges
// before it stores). Commands are bounded (commands.go): payload size,
// replies and log lines per second.
//
// Backlog and live. At connect, the records up to the outbox's highest
// committed seq are the backlog: they drain in seq order at BacklogRate,
// each flagged "historical":true (spliced into the JSON object when sent;
// the stored record is unchanged). Records committed after the connect are
// live and go out at once, ahead of the backlog.
//
// Errors. New rejects a bad configuration and unreadable files, naming the
// field or file. Check makes one connection attempt: Permanent(err) tells
// refused credentials and TLS failures (fix the configuration) from an
// unreachable broker (keep buffering). Run reconnects forever with capped
// exponential backoff and full jitter, never inside less than
// ReconnectSpread, so that a fleet that lost its broker together does not
// come back together (docs/FLEET.md); Busy(err) refusals wait BackoffMax.
package sync
