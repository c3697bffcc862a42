package sync

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/testutil/logbuf"
)

// A payload over MaxCommandBytes is refused unread (the handler never
// sees it), and a burst of commands gets at most the reply burst at once:
// the rest are dropped and counted, and their log lines suppressed.
func TestCommandBounds(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	rec := record(t, b, base+"reply/#")
	logBuf := &logbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logBuf, nil))
	handled := make(chan int, 1000)
	p := newPublisher(t, testConfig(b.URL()), newMemOutbox(), WithCommandLog(NewCommandLog(log)),
		WithCommands(func(name string, payload []byte) []byte {
			handled <- len(payload)
			return []byte(`{"error":"no such command"}`)
		}))
	runPublisher(t, p)
	waitFor(t, 5*time.Second, "connected", func() bool { return p.Status().Connected })
	time.Sleep(50 * time.Millisecond) // the subscription follows the CONNACK

	if err := b.Publish(base+"cmd/big", bytes.Repeat([]byte("x"), MaxCommandBytes+1), false, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the refusal", func() bool { return len(rec.all()) == 1 })
	if got := string(rec.all()[0].Payload); !strings.Contains(got, "refused unread") || len(handled) != 0 {
		t.Fatalf("reply %s, handler called %d times", got, len(handled))
	}

	long := strings.Repeat("z", maxReplyTopic)
	if err := b.Publish(base+"cmd/"+long, []byte(`{}`), false, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the long name counted", func() bool { return p.Status().Commands.RepliesDropped == 1 })
	if len(rec.all()) != 1 {
		t.Fatalf("a reply topic over %d bytes was published", maxReplyTopic)
	}

	const n = 300
	for i := 0; i < n; i++ {
		if err := b.Publish(base+"cmd/nope", []byte(`{}`), false, 1); err != nil { // the broker may drop QoS 0
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "every command counted", func() bool {
		cs := p.Status().Commands
		return cs.Received == n+2 && cs.Replies+cs.RepliesDropped == n+2 // busy ones are answered too
	})
	time.Sleep(100 * time.Millisecond)
	cs := p.Status().Commands
	// the whole burst took well under a second: at most the burst plus a
	// second's refill went out
	if got := len(rec.all()); got > commandReplyBurst+commandReplyRate || cs.RepliesDropped == 0 || cs.TooLarge != 1 {
		t.Fatalf("%d replies to %d commands, counters %+v", got, n+2, cs)
	}
	lines := len(logBuf.Lines())
	if lines > commandLogBurst+commandLogRate {
		t.Fatalf("%d log lines for %d bad commands", lines, n)
	}
}
