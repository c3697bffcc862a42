package fleet

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/omo-edge/edge-agent/internal/agent"
)

// minStep bounds how often a simulated counter wakes (real time): at a
// high speedup several pulses are then emitted in one wake, each with its
// own store-time stamp.
const minStep = 20 * time.Millisecond

// pulseSource is a commercial people counter's dry-contact outputs, seen
// by the agent's pulse detector: each person is one active pulse, on the
// in or out line at an entrance (channels 0 and 1), on the pass line of a
// storefront counter (channel 2). Arrivals are Poisson in store time.
type pulseSource struct {
	clock     *Clock
	rng       *rand.Rand
	perMinute float64
	channels  []int // the lines a person may pulse, chosen uniformly
	lastEnd   time.Duration
}

type edge struct {
	at time.Duration // store time since the clock's start
	ch int
	v  int64
}

func newPulseSource(clock *Clock, seed uint64, perMinute float64, channels ...int) *pulseSource {
	return &pulseSource{clock: clock, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		perMinute: perMinute, channels: channels}
}

// person schedules the next person's pulse: its rising and falling edge.
func (s *pulseSource) person() []edge {
	gap := time.Duration(s.rng.ExpFloat64() / s.perMinute * float64(time.Minute))
	start := s.lastEnd + max(gap, 50*time.Millisecond) // the line is idle between two people
	dur := 150*time.Millisecond + time.Duration(s.rng.Int64N(int64(250*time.Millisecond)))
	ch := s.channels[s.rng.IntN(len(s.channels))]
	s.lastEnd = start + dur
	return []edge{{start, ch, 1}, {start + dur, ch, 0}}
}

// Run emits the pulses as store time reaches them, until ctx is done.
func (s *pulseSource) Run(ctx context.Context, emit agent.Emit) error {
	s.lastEnd = s.clock.Elapsed()
	for _, ch := range s.channels {
		emit(ch, 0, nil, s.clock.At(s.lastEnd)) // every line idle at start
	}
	var pending []edge
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := s.clock.Elapsed()
		for {
			if len(pending) == 0 {
				pending = s.person()
			}
			if pending[0].at > now {
				break
			}
			e := pending[0]
			pending = pending[1:]
			emit(e.ch, e.v, nil, s.clock.At(e.at))
		}
		t.Reset(max(s.clock.Real(pending[0].at-now), minStep))
	}
}
