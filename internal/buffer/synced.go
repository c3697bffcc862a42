package buffer

// SyncedImageEnv names the file that a daemon built with the chaos tag
// copies its outbox to after Open and after every completed commit (bbolt
// returned, so its fdatasyncs did too): the image the disk would hold if
// the power failed then. The chaos harness (internal/chaos) restarts a
// "power cut" daemon from it, torn with a subset of the later writes.
// Readers are not held meanwhile: what bbolt shows them before the commit
// is durable, they see, as in production.
// Without the tag the hook is compiled out (synced_off.go).
const SyncedImageEnv = "EDGE_AGENT_CHAOS_SYNCED_IMAGE"

// SyncedDelayEnv (a duration) makes a chaos build wait that long after each
// commit before recording its image, with the file SyncedImageEnv+".pending"
// present: a window in which the commit is in the file (bbolt's readers see
// its meta page) but Commit has not returned, as during a slow fdatasync
// on an SD card, for the harness to cut the power in.
const SyncedDelayEnv = "EDGE_AGENT_CHAOS_SYNC_DELAY"
