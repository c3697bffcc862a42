package sync

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) { c.writes++; return c.Conn.Write(p) }

func TestBatchConnOrderAndClose(t *testing.T) {
	client, server := net.Pipe()
	cc := &countingConn{Conn: client}
	bc := newBatchConn(cc, time.Second)
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(server); got <- b }()

	var want bytes.Buffer
	for i := 0; i < 2000; i++ {
		p := []byte(fmt.Sprintf("packet-%d;", i))
		want.Write(p)
		if n, err := bc.Write(p); err != nil || n != len(p) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	// paho writes DISCONNECT and closes at once: Close must flush first
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("peer got %d bytes, want %d in order", len(b), want.Len())
	}
	if cc.writes >= 2000 {
		t.Errorf("%d socket writes for 2000 packets: nothing was batched", cc.writes)
	}
	if _, err := bc.Write([]byte("late")); err == nil {
		t.Error("write after Close succeeded")
	}
	t.Logf("2000 packets in %d socket writes", cc.writes)
}

func TestBatchConnWriteErrorClosesConnection(t *testing.T) {
	client, server := net.Pipe()
	bc := newBatchConn(client, time.Second)
	server.Close() // the peer is gone: the flusher's write fails
	bc.Write([]byte("x"))
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := bc.Write([]byte("y")); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes keep succeeding after the peer closed")
		}
		time.Sleep(time.Millisecond)
	}
	// the reader (paho's) sees the connection is gone
	if _, err := bc.Read(make([]byte, 1)); err == nil || errors.Is(err, net.ErrClosed) {
		t.Errorf("read on a failed connection: %v, want the write error", err)
	}
	bc.Close()
}

func TestBatchConnReadBuffered(t *testing.T) {
	client, server := net.Pipe()
	bc := newBatchConn(client, time.Second)
	defer bc.Close()
	go server.Write([]byte{0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0x00, 0x02}) // two PUBACKs
	for _, want := range []uint64{1, 2} {
		pkt, err := readPacket(bc)
		if err != nil || pkt[0] != 0x40 || uint64(pkt[3]) != want {
			t.Fatalf("PUBACK %d: % x, %v", want, pkt, err)
		}
	}
}
