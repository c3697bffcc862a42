package sync

import (
	"bufio"
	"errors"
	"net"
	gosync "sync"
	"time"
)

// batchConn sits under paho to cut syscalls, the main cost of a QoS 1
// stream: paho reads each packet header a byte at a time (three reads per
// 4-byte PUBACK) and writes each packet with its own syscall. Reads go
// through a bufio.Reader; writes are queued and written by one flusher
// goroutine, so packets that arrive while a write is under way go out
// together in the next one. A small write waits up to coalesceWait (200 µs)
// for more: under a backlog drain that turns one syscall per packet into one
// per few hundred, which more than halves the CPU per message; for a live
// window it is 200 µs of latency.
//
// A queued write that later fails closes the connection, so paho sees the
// loss on its next read; nothing is acked on that basis, since records are
// acked on PUBACK only.
type batchConn struct {
	net.Conn
	r            *bufio.Reader
	writeTimeout time.Duration

	mu      gosync.Mutex
	cond    *gosync.Cond // signals the flusher (data or close) and writers (room)
	buf     []byte       // queued bytes
	spare   []byte
	err     error
	closing bool
	done    chan struct{} // flusher exited
	once    gosync.Once
}

// A flush smaller than coalesceBytes waits coalesceWait for more packets.
const (
	coalesceBytes = 16 << 10
	coalesceWait  = 200 * time.Microsecond
)

// maxQueued bounds the queued bytes; a writer waits beyond it.
const maxQueued = 256 << 10

var errConnClosed = errors.New("connection closed")

func newBatchConn(c net.Conn, writeTimeout time.Duration) *batchConn {
	b := &batchConn{Conn: c, r: bufio.NewReaderSize(c, 4096), writeTimeout: writeTimeout, done: make(chan struct{})}
	b.cond = gosync.NewCond(&b.mu)
	go b.flusher()
	return b
}

// Read reads through the buffer. When the flusher closed the connection
// after a failed write, the reader gets that write error (e.g. "connection
// reset") rather than "use of closed network connection".
func (b *batchConn) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && errors.Is(err, net.ErrClosed) {
		b.mu.Lock()
		werr := b.err
		b.mu.Unlock()
		if werr != nil {
			err = werr
		}
	}
	return n, err
}

// Write queues p; it fails only once the connection has failed or closed.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.err == nil && !b.closing && len(b.buf) >= maxQueued {
		b.cond.Wait()
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.closing {
		return 0, errConnClosed
	}
	b.buf = append(b.buf, p...)
	b.cond.Broadcast()
	return len(p), nil
}

// SetWriteDeadline is paho's per-packet deadline; the flusher sets its own
// per batch instead (saving two timer updates per packet).
func (b *batchConn) SetWriteDeadline(time.Time) error { return nil }

func (b *batchConn) SetDeadline(t time.Time) error { return b.Conn.SetReadDeadline(t) }

func (b *batchConn) flusher() {
	defer close(b.done)
	b.mu.Lock()
	for {
		for len(b.buf) == 0 && !b.closing && b.err == nil {
			b.cond.Wait()
		}
		if len(b.buf) == 0 || b.err != nil {
			b.mu.Unlock()
			return
		}
		if len(b.buf) < coalesceBytes && !b.closing {
			// Give the writer a moment to add more: one syscall for many
			// small packets costs far less than the latency it adds.
			b.mu.Unlock()
			time.Sleep(coalesceWait)
			b.mu.Lock()
		}
		out := b.buf
		b.buf = b.spare[:0]
		b.cond.Broadcast() // room for writers
		b.mu.Unlock()

		if b.writeTimeout > 0 {
			_ = b.Conn.SetWriteDeadline(time.Now().Add(b.writeTimeout))
		}
		_, err := b.Conn.Write(out)

		b.mu.Lock()
		b.spare = out[:0]
		if err != nil {
			b.err = err
			b.cond.Broadcast()
			b.mu.Unlock()
			_ = b.Conn.Close() // paho's reader notices the loss
			return
		}
		b.cond.Broadcast()
	}
}

// Close writes what is queued (paho's DISCONNECT comes just before it),
// then closes the connection.
func (b *batchConn) Close() error {
	var err error
	b.once.Do(func() {
		b.mu.Lock()
		b.closing = true
		b.cond.Broadcast()
		b.mu.Unlock()
		select {
		case <-b.done:
		case <-time.After(time.Second):
		}
		err = b.Conn.Close()
	})
	return err
}
