package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

const (
	// livePoll re-reads the outbox even without a commit signal, so a
	// missed signal delays live records by a second at most.
	livePoll = time.Second
	// ackGrace is how long a shutdown waits for the PUBACKs of what is in
	// flight before disconnecting.
	ackGrace = 2 * time.Second
	// outboxRetry is the pause after an outbox read error.
	outboxRetry = time.Second
)

// flight is one publish awaiting its PUBACK.
type flight struct {
	seq uint64
	tok mqtt.Token
}

// session runs one connection until it is lost (returned as the error) or
// ctx is done (clean shutdown, nil).
func (p *Publisher) session(ctx context.Context, c *connection) error {
	cl := c.client
	// The backlog is what was committed when the connection came up.
	backlogEnd := p.ob.LastSeq()
	p.setConnected(true)
	online := cl.Publish(p.base+"status", 1, true, p.statusPayload("online"))
	if !online.WaitTimeout(p.cfg.ConnectTimeout) || online.Error() != nil {
		p.log.Warn("online status not acknowledged", "err", online.Error())
	}
	if p.cmd != nil {
		st := cl.Subscribe(p.base+"cmd/+", 1, func(_ mqtt.Client, m mqtt.Message) {
			p.dispatchCommand(cl, m.Topic(), m.Payload())
		})
		if !st.WaitTimeout(p.cfg.ConnectTimeout) || st.Error() != nil {
			p.log.Warn("command subscription failed", "err", st.Error())
		} else if s, ok := st.(*mqtt.SubscribeToken); ok {
			for _, code := range s.Result() {
				if code == 0x80 {
					p.log.Warn("broker refused the command subscription", "topic", p.base+"cmd/+")
				}
			}
		}
	}
	// Not waited for: a slow health source must not hold up a reconnect.
	stopHealth := make(chan struct{})
	go p.healthLoop(cl, stopHealth)

	fifo := make(chan flight, p.cfg.MaxInflight)
	slots := make(chan struct{}, p.cfg.MaxInflight)
	abandon := make(chan struct{})
	collDone := make(chan struct{})
	settle := p.newSettler(c.lost)
	go p.collect(fifo, slots, abandon, settle, collDone)

	p.send(ctx, c, backlogEnd, fifo, slots)
	close(fifo)
	close(stopHealth)

	if ctx.Err() == nil { // connection lost
		// paho completes every pending token (with an error) before it
		// reports the loss; abandon is a guard against one that never does.
		t := time.AfterFunc(p.cfg.ConnectTimeout+5*time.Second, func() { close(abandon) })
		<-collDone
		t.Stop()
		settle.close()
		if c.lostErr != nil {
			return c.lostErr
		}
		return errors.New("connection lost")
	}

	// Clean shutdown: let in-flight PUBACKs arrive, say offline, disconnect.
	grace := time.NewTimer(ackGrace)
	select {
	case <-collDone:
	case <-grace.C:
	case <-c.lost:
	}
	grace.Stop()
	off := cl.Publish(p.base+"status", 1, true, p.statusPayload("offline"))
	off.WaitTimeout(ackGrace)
	cl.Disconnect(250)
	close(abandon)
	<-collDone
	settle.close()
	p.log.Info("disconnected")
	return nil
}

// send publishes records until the connection is lost or ctx is done. Live
// records (seq > the highest committed seq at connect) go out as soon as
// they are committed; the backlog drains in seq order at BacklogRate,
// flagged historical, whenever no live record waits.
func (p *Publisher) send(ctx context.Context, c *connection, backlogEnd uint64, fifo chan<- flight, slots chan struct{}) {
	var (
		backCursor uint64 // last backlog seq sent
		liveCursor = backlogEnd
		backQ      []Record
		liveQ      []Record
		backDone   = backlogEnd == 0
		backDirty  = true // worth reading the backlog side
		liveDirty  = true // worth reading the live side
		lim        = newLimiter(p.cfg.BacklogRate, time.Now())
		poll       = time.NewTicker(livePoll)
		committed  = p.ob.Committed()
	)
	defer poll.Stop()
	p.backlogLeft.Store(backlogEnd)
	defer p.backlogLeft.Store(0)

	// wait blocks until something may have changed; false = stop.
	wait := func(d time.Duration) bool {
		var timer <-chan time.Time
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
			return false
		case <-c.lost:
			return false
		case <-committed:
			committed = p.ob.Committed()
			liveDirty, backDirty = true, true
		case <-poll.C:
			liveDirty, backDirty = true, true
		case <-timer:
		}
		return true
	}

	for {
		// Checked on every turn, not only when idle: an unlimited backlog
		// drain never waits, and live windows committed meanwhile must not
		// queue behind the whole backlog.
		select {
		case <-ctx.Done():
			return
		case <-c.lost:
			return
		case <-committed:
			committed = p.ob.Committed()
			liveDirty, backDirty = true, true
		case <-poll.C:
			liveDirty, backDirty = true, true
		default:
		}
		if len(liveQ) == 0 && liveDirty {
			recs, err := p.ob.Pending(liveCursor, p.cfg.BatchSize)
			if err != nil {
				p.log.Error("outbox read failed", "err", err)
				if !wait(outboxRetry) {
					return
				}
				continue
			}
			liveQ = recs
			liveDirty = len(recs) == p.cfg.BatchSize // more may follow at once
		}
		if len(backQ) == 0 && !backDone && backDirty {
			recs, err := p.ob.Pending(backCursor, p.cfg.BatchSize)
			if err != nil {
				p.log.Error("outbox read failed", "err", err)
				if !wait(outboxRetry) {
					return
				}
				continue
			}
			n := 0
			for n < len(recs) && recs[n].Seq <= backlogEnd {
				n++
			}
			backQ = recs[:n]
			// The backlog ends at a record past backlogEnd or at backlogEnd
			// itself. A short batch short of it is re-read at the next wake,
			// in case an outbox's LastSeq counted records not yet committed.
			backDone = n < len(recs) || (n > 0 && recs[n-1].Seq == backlogEnd)
			backDirty = n == p.cfg.BatchSize
			if backDone && n == 0 {
				p.backlogLeft.Store(0)
			}
		}

		var rec Record
		historical := false
		switch {
		case len(liveQ) > 0:
			rec = liveQ[0]
		case len(backQ) > 0:
			if d := lim.delay(time.Now()); d > 0 {
				if !wait(d) {
					return
				}
				continue
			}
			rec, historical = backQ[0], true
		default:
			if !wait(0) {
				return
			}
			continue
		}

		// A free in-flight slot; live records that arrive meanwhile are
		// picked up on the next turn.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		case <-c.lost:
			return
		}
		payload := rec.Payload
		if historical {
			backQ = backQ[1:]
			backCursor = rec.Seq
			lim.take(time.Now())
			payload = markHistorical(payload)
			if rec.Seq >= backlogEnd {
				backDone = true
			}
			if backDone && len(backQ) == 0 {
				p.backlogLeft.Store(0)
			} else {
				p.backlogLeft.Store(backlogEnd - rec.Seq)
			}
		} else {
			liveQ = liveQ[1:]
			liveCursor = rec.Seq
		}
		p.inflight.Add(1)
		p.sent.Add(1)
		fifo <- flight{seq: rec.Seq, tok: c.client.Publish(p.base+rec.Topic, 1, false, payload)}
	}
}

// collect waits for each publish's outcome in send order and acks the
// records whose PUBACK arrived. A token of this connection's client that
// completes without error means its PUBACK arrived: the client is never
// reused or resumed, so paho has no other way to complete it cleanly.
func (p *Publisher) collect(fifo <-chan flight, slots <-chan struct{}, abandon <-chan struct{}, settle *settler, done chan<- struct{}) {
	defer close(done)
	const maxBatch = 256
	batch := make([]uint64, 0, maxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		settle.add(batch)                   // acked to the outbox after AckSettle
		batch = make([]uint64, 0, maxBatch) // the outbox may keep the slice
	}
	defer flush()
	for f := range fifo {
		select {
		case <-f.tok.Done():
		case <-abandon:
		}
		select {
		case <-f.tok.Done():
			if f.tok.Error() == nil {
				batch = append(batch, f.seq)
			}
		default: // abandoned: not acked, re-sent on the next connection
		}
		p.inflight.Add(-1)
		<-slots
		if len(batch) == maxBatch || len(fifo) == 0 {
			flush()
		}
	}
}

// healthLoop publishes the retained health message at connect and then
// every HealthInterval.
func (p *Publisher) healthLoop(cl mqtt.Client, stop <-chan struct{}) {
	if p.health == nil {
		return
	}
	t := time.NewTicker(p.cfg.HealthInterval)
	defer t.Stop()
	for {
		if b, err := p.healthPayload(); err != nil {
			p.log.Warn("health not published", "err", err)
		} else {
			cl.Publish(p.base+"health", 1, true, b)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (p *Publisher) healthPayload() (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("health source panicked: %v", r)
		}
	}()
	return json.Marshal(p.health())
}

// dispatchCommand runs the command handler off paho's goroutine, with a
// bounded number running at once, recover and a timeout.
func (p *Publisher) dispatchCommand(cl mqtt.Client, topic string, payload []byte) {
	p.cmdStats.received.Add(1)
	name := strings.TrimPrefix(topic, p.base+"cmd/")
	if name == "" || name == topic {
		p.cmdLog.Warn("command with an empty name ignored", "topic", TruncateName(topic))
		return
	}
	reply := func(b []byte) { p.publishReply(cl, name, b) }
	if len(payload) > MaxCommandBytes {
		p.cmdStats.tooLarge.Add(1)
		p.cmdLog.Warn("command refused: payload too large", "command", TruncateName(name), "bytes", len(payload))
		reply(errorReply(name, fmt.Sprintf("payload of %d bytes refused unread: at most %d", len(payload), MaxCommandBytes)))
		return
	}
	select {
	case p.cmdSlots <- struct{}{}:
	default:
		p.cmdStats.busy.Add(1)
		p.cmdLog.Warn("command dropped: too many commands running", "command", TruncateName(name))
		reply(errorReply(name, "busy: too many commands running"))
		return
	}
	payload = append([]byte(nil), payload...)
	result := make(chan []byte, 1)
	go func() {
		defer func() { <-p.cmdSlots }()
		defer func() {
			if r := recover(); r != nil {
				p.cmdLog.Error("command handler panicked", "command", TruncateName(name), "panic", fmt.Sprint(r))
				result <- errorReply(name, "handler failed")
			}
		}()
		result <- p.cmd(name, payload)
	}()
	go func() {
		t := time.NewTimer(p.cfg.CommandTimeout)
		defer t.Stop()
		select {
		case b := <-result:
			reply(b)
		case <-t.C:
			p.cmdLog.Warn("command handler timed out", "command", TruncateName(name), "timeout", p.cfg.CommandTimeout)
			reply(errorReply(name, "timeout"))
		}
	}()
}

func errorReply(name, msg string) []byte {
	b, _ := json.Marshal(struct {
		Command string `json:"command"`
		Error   string `json:"error"`
	}{name, msg})
	return b
}
