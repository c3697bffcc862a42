// Package backlog makes the backlog an outage leaves in an agent's outbox:
// closed windows in the agent's own topics and payloads (one message per
// sensor, then the store's, per window), for the drain benchmark
// (scripts/bench.sh drain) and the tests that kill a daemon mid-drain.
package backlog

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/omo-edge/edge-agent/internal/aggregate"
	"github.com/omo-edge/edge-agent/internal/buffer"
	"github.com/omo-edge/edge-agent/internal/config"
)

// Start is the first window's start (Unix ms): fixed, so that Records gives
// the same bytes every time.
const Start int64 = 1793491200000 // 2026-11-01T00:00:00Z

// Records calls emit for the first n records of a backlog as the daemon of
// cfg stages them, with seqs from 1. payload is reused after emit returns.
func Records(cfg *config.Config, n int, emit func(seq uint64, topic string, payload []byte)) error {
	specs, err := cfg.Specs()
	if err != nil {
		return err
	}
	enc := aggregate.NewEncoder(aggregate.Identity{Store: cfg.StoreID, Agent: cfg.AgentID}, specs)
	win := cfg.Window.Milliseconds()
	w := aggregate.Window{Sensors: make([]aggregate.Counts, len(specs))}
	var buf []byte
	seq := uint64(0)
	for k := int64(0); ; k++ {
		w.Start = Start + k*win
		w.End = w.Start + win
		w.Occupancy = k % 40
		for i := range w.Sensors {
			w.Sensors[i] = aggregate.Counts{Entries: k % 7, Exits: k % 5, Passersby: k % 23, StopBys: k % 3, Taps: k % 2}
		}
		for i := 0; i <= len(specs); i++ {
			if int(seq) == n {
				return nil
			}
			seq++
			topic := "store"
			if i < len(specs) {
				topic = "agg/" + specs[i].ID
				buf = enc.SensorWindow(buf[:0], &w, i, seq)
			} else {
				buf = enc.StoreWindow(buf[:0], &w, seq)
			}
			emit(seq, topic, buf)
		}
	}
}

// Fill writes a backlog of n records into the empty outbox of cfg's state
// dir through the buffer package, in commits of 10000 records.
func Fill(cfg *config.Config, n int) (buffer.Stats, error) {
	ob, err := buffer.Open(filepath.Join(cfg.StateDir, "outbox.db"), cfg.Buffer.Options(), nil)
	if err != nil {
		return buffer.Stats{}, err
	}
	if st := ob.Stats(); st.LastSeq != 0 {
		ob.Close()
		return st, fmt.Errorf("backlog: %s/outbox.db is not empty (last seq %d)", cfg.StateDir, st.LastSeq)
	}
	var cerr error
	err = Records(cfg, n, func(seq uint64, topic string, payload []byte) {
		p := slices.Clone(payload)
		ob.Stage(topic, func(uint64) []byte { return p })
		if seq%10000 == 0 && cerr == nil {
			cerr = ob.Commit()
		}
	})
	if err == nil {
		err = cerr
	}
	if err == nil {
		err = ob.Commit()
	}
	st := ob.Stats()
	if cerr := ob.Close(); err == nil {
		err = cerr
	}
	if err == nil && (st.Depth != n || st.Dropped != 0) {
		err = fmt.Errorf("backlog: the outbox holds %d of %d records, %d dropped: raise buffer.max_bytes", st.Depth, n, st.Dropped)
	}
	return st, err
}
