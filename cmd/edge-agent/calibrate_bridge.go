package main

// The beam walk test's bridge_ms rule: a real body clears a beam for a few
// ms while it passes (between arm and torso, a bag, loose clothing); the
// detector bridges clears shorter than bridge_ms. The walk test measures
// those gaps and proposes a bridge just above the longest.

import "fmt"

const (
	// interiorMaxMs: clears shorter than this between two blocks of one beam
	// are inside one walk (the next walker in single file is at least
	// 0.45 m behind: 250 ms at 1.8 m/s); longer ones separate walks.
	interiorMaxMs = 150
	// bridge_ms = the longest gap inside a body + bridgeMarginMs, rounded
	// up to 5 ms, within [minBridgeMs, maxBridgeMs] (well under the 250 ms
	// between people in single file, so they are still told apart).
	bridgeMarginMs = 10
	minBridgeMs    = 20
	maxBridgeMs    = 100
)

// bridgeProposal is the bridge rule's result.
type bridgeProposal struct {
	InteriorGaps int   `json:"interior_gaps"`           // clears inside a walk's block
	LongestGapMs int64 `json:"longest_interior_gap_ms"` // the longest of them
	Hands        int   `json:"hands"`                   // short blocks leading a walk's block
	BridgeMs     int64 `json:"bridge_ms"`               // 0: none proposed
	TooLong      bool  `json:"gaps_too_long,omitempty"` // a gap needs more than maxBridgeMs
	why          string
}

// walks groups one beam's blocks (start, end ms, in order) into walks:
// blocks less than interiorMaxMs apart are one walk.
func walks(blocks [][2]int64) [][][2]int64 {
	var out [][][2]int64
	for i, b := range blocks {
		if i == 0 || b[0]-blocks[i-1][1] >= interiorMaxMs {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], b)
	}
	return out
}

// proposeBridge applies the rule to both beams' blocks. Within a walk, a
// first block shorter than minBlock is a hand ahead of the body (its gap
// is not the body's); the other clears are gaps inside the body. bridge_ms
// is proposed when the longest needs more than current.
func proposeBridge(beams [2][][2]int64, current, minBlock int64) bridgeProposal {
	var p bridgeProposal
	for _, bl := range beams {
		for _, w := range walks(bl) {
			for i := 1; i < len(w); i++ {
				if i == 1 && w[0][1]-w[0][0] < minBlock {
					p.Hands++
					continue
				}
				p.InteriorGaps++
				p.LongestGapMs = max(p.LongestGapMs, w[i][0]-w[i-1][1])
			}
		}
	}
	if p.InteriorGaps == 0 {
		p.why = "no clear gap inside a block seen"
		return p
	}
	b := (p.LongestGapMs + bridgeMarginMs + 4) / 5 * 5
	if b > maxBridgeMs {
		p.TooLong = true
		b = maxBridgeMs
	}
	b = max(b, minBridgeMs)
	p.why = fmt.Sprintf("the longest gap inside a block (%d ms) + %d ms, rounded up to 5 ms, within %d..%d ms; proposed when above the current", p.LongestGapMs, bridgeMarginMs, minBridgeMs, maxBridgeMs)
	if b > current {
		p.BridgeMs = b
	}
	return p
}

// bodyBlocks is how long each walk blocked a beam, its gaps bridged and a
// leading hand left out, for the debounce rule; a lone block is itself
// (a glitch when short).
func bodyBlocks(beams [2][][2]int64, minBlock int64) []int64 {
	var out []int64
	for _, bl := range beams {
		for _, w := range walks(bl) {
			if len(w) > 1 && w[0][1]-w[0][0] < minBlock {
				w = w[1:]
			}
			out = append(out, w[len(w)-1][1]-w[0][0])
		}
	}
	return out
}
