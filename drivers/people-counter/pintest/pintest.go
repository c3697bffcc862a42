package pintest

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// DefaultQueueLen is the number of edge events a Pin keeps for WaitForEdge,
// the default event buffer gpiolib-cdev gives one requested line.
const DefaultQueueLen = 16

// Stats counts what happened on a Pin.
type Stats struct {
	Sets     int // calls to Set and Release that changed the level
	Rising   int // low-to-high edges queued (matching the In edge kind)
	Falling  int // high-to-low edges queued
	Reported int // edges returned by WaitForEdge
	Dropped  int // edges lost because the queue was full
	Pending  int // edges queued and not yet reported
	Waiting  int // goroutines inside WaitForEdge now
	Halts    int // calls to Halt
	Ins      int // calls to In
}

// Pin is a fake GPIO input line. Create it with New.
type Pin struct {
	name string
	num  int

	mu       sync.Mutex
	level    gpio.Level
	driven   bool
	pull     gpio.Pull
	edge     gpio.Edge
	queueLen int
	pending  int
	gen      uint64        // bumped by In and Halt: ends waits in progress
	wake     chan struct{} // closed and replaced whenever waiters must look again
	closed   bool
	st       Stats
}

// New returns a line named name with GPIO number num. It starts undriven
// and low, configured with no pull and no edge detection.
func New(name string, num int) *Pin {
	return &Pin{name: name, num: num, pull: gpio.Float, queueLen: DefaultQueueLen, wake: make(chan struct{})}
}

// SetQueueLen changes how many unreported edges the line keeps (n >= 1).
// Events beyond it drop the oldest.
func (p *Pin) SetQueueLen(n int) {
	if n < 1 {
		n = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queueLen = n
	if p.pending > n {
		p.st.Dropped += p.pending - n
		p.pending = n
	}
}

// Set drives the line to l, as the sensor's output stage does. A change of
// level queues an edge if it matches the edge kind given to In.
func (p *Pin) Set(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.driven = true
	p.change(l)
}

// Release stops driving the line: it floats to the level of the configured
// pull (high for PullUp, low for PullDown) or keeps its level when the pull
// is Float, as a switched-off open-collector output does.
func (p *Pin) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.driven = false
	if l, ok := pullLevel(p.pull); ok {
		p.change(l)
	}
}

// change sets the level and queues the edge; p.mu is held.
func (p *Pin) change(l gpio.Level) {
	if l == p.level {
		return
	}
	p.level = l
	p.st.Sets++
	rising := l == gpio.High
	if p.closed || !(rising && p.edge&gpio.RisingEdge != 0 || !rising && p.edge&gpio.FallingEdge != 0) {
		return
	}
	if rising {
		p.st.Rising++
	} else {
		p.st.Falling++
	}
	if p.pending >= p.queueLen {
		p.st.Dropped++ // the oldest event goes, the new one is kept
	} else {
		p.pending++
	}
	p.broadcast()
}

func (p *Pin) broadcast() {
	close(p.wake)
	p.wake = make(chan struct{})
}

func pullLevel(pull gpio.Pull) (gpio.Level, bool) {
	switch pull {
	case gpio.PullUp:
		return gpio.High, true
	case gpio.PullDown:
		return gpio.Low, true
	}
	return gpio.Low, false
}

// Stats returns the counters.
func (p *Pin) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.st
	s.Pending = p.pending
	return s
}

// Edge returns the edge kind the line was last configured with.
func (p *Pin) Edge() gpio.Edge {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.edge
}

// String implements conn.Resource.
func (p *Pin) String() string { return fmt.Sprintf("%s(%d)", p.name, p.num) }

// Halt implements conn.Resource: it ends the waits in progress (they return
// false) and keeps queued edges for the next WaitForEdge.
func (p *Pin) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Halts++
	p.gen++
	p.broadcast()
	return nil
}

// Close releases the line: waits in progress and all later WaitForEdge calls
// return false. Set and Read keep working.
func (p *Pin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.pending = 0
	p.broadcast()
	return nil
}

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return p.num }

// Function implements pin.Pin.
func (p *Pin) Function() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.edge != gpio.NoEdge {
		return "In/" + p.edge.String()
	}
	return "In"
}

// In implements gpio.PinIn. It applies pull (an undriven line follows it),
// arms edge detection for edge, empties the queue and ends waits in
// progress.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	if edge < gpio.NoEdge || edge > gpio.BothEdges {
		return fmt.Errorf("pintest: %s: invalid edge %d", p, edge)
	}
	if pull > gpio.PullUp {
		return fmt.Errorf("pintest: %s: invalid pull %d", p, pull)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("pintest: %s: line is closed", p)
	}
	p.st.Ins++
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	if !p.driven {
		if l, ok := pullLevel(p.pull); ok {
			p.level = l
		}
	}
	p.edge = edge
	p.pending = 0
	p.gen++
	p.broadcast()
	return nil
}

// Read implements gpio.PinIn: the level on the line now.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge implements gpio.PinIn. It returns true at once if an edge is
// queued (consuming it), otherwise waits up to timeout for one; a negative
// timeout waits until an edge, In, Halt or Close. It returns false when edge
// detection is not armed.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	p.mu.Lock()
	if p.closed || p.edge == gpio.NoEdge {
		p.mu.Unlock()
		return false
	}
	if p.take() {
		p.mu.Unlock()
		return true
	}
	if timeout == 0 {
		p.mu.Unlock()
		return false
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	gen := p.gen
	p.st.Waiting++
	defer func() {
		p.st.Waiting--
		p.mu.Unlock()
	}()
	for {
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-expired:
			p.mu.Lock()
			return false
		}
		p.mu.Lock()
		if p.closed || p.gen != gen {
			return false
		}
		if p.take() {
			return true
		}
	}
}

// take consumes one queued edge; p.mu is held.
func (p *Pin) take() bool {
	if p.pending == 0 {
		return false
	}
	p.pending--
	p.st.Reported++
	return true
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn: a fake line has no reset pull.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.Float }

var _ gpio.PinIn = (*Pin)(nil)
