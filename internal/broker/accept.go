package broker

import (
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// listenerID names the broker's one listener to mochi (client.Net.Listener).
const listenerID = "tcp"

// acceptor is the broker's accept loop, run instead of a mochi listener.
//
// mochi v2.7.9's Server.Close is not safe against a connection arriving at
// the same time: its listener hands every accepted conn to a new goroutine
// whose attachClient calls Listeners.ClientsWg.Add(1), while Close calls
// ClientsWg.Wait() — an Add on a zero WaitGroup concurrent with Wait, which
// `go test -race` reports (and which may let Close return before, or block
// on, a client that is still attaching). Upstream has no fixed release
// (mochi-mqtt/server#541, #424 are about the same code).
//
// (Its Close also walks the clients with Clients.GetByListener, which can
// deadlock, see close.) So mochi gets no listener: the acceptor accepts, hands each conn to
// Server.EstablishConnection on a goroutine it tracks, and on close stops
// accepting, disconnects every client, closes every conn still attaching
// and waits for all those goroutines to return. Only then does Broker.Close
// call Server.Close, whose ClientsWg is at zero with no Add left to come.
type acceptor struct {
	srv  *mqtt.Server
	ln   net.Listener
	loop chan struct{} // closed when the accept loop has returned

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // handed to mochi, not yet returned
	wg     sync.WaitGroup        // one per conn in conns
}

func startAcceptor(srv *mqtt.Server, ln net.Listener) *acceptor {
	a := &acceptor{srv: srv, ln: ln, loop: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	go a.run()
	return a
}

func (a *acceptor) run() {
	defer close(a.loop)
	for {
		c, err := a.ln.Accept()
		if err != nil {
			a.mu.Lock()
			closed := a.closed
			a.mu.Unlock()
			if closed {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return // listener broken: no more clients, close still works
		}
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			_ = c.Close()
			return
		}
		a.conns[c] = struct{}{}
		a.wg.Add(1) // under mu, before close's Wait: never a racing Add
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			err := a.srv.EstablishConnection(listenerID, c)
			if err != nil {
				a.srv.Log.Debug("client connection ended", "error", err, "remote", c.RemoteAddr().String())
			}
			_ = c.Close()
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

// close stops accepting and returns once no conn is left in mochi's hands.
// Clients are disconnected as mochi's own Close would (DISCONNECT "server
// shutting down" for MQTT 5, then the conn is closed).
func (a *acceptor) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	_ = a.ln.Close()
	<-a.loop // no Accept in progress, no wg.Add to come
	// GetAll, not GetByListener: in v2.7.9 that one takes the clients'
	// read lock twice, which deadlocks against a client being added.
	for _, cl := range a.srv.Clients.GetAll() {
		if cl.Net.Listener == listenerID && !cl.Closed() {
			_ = a.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
	// Conns still reading their CONNECT (or that finished it after the
	// loop above) are not in Clients: closing the conn ends them.
	a.mu.Lock()
	for c := range a.conns {
		_ = c.Close()
	}
	a.mu.Unlock()
	a.wg.Wait()
}
