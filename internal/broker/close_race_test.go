package broker

import (
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// connectPacket is an MQTT 3.1.1 CONNECT with client id "r", clean session,
// keepalive 10 s.
var connectPacket = []byte{0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0a, 0x00, 0x01, 'r'}

// TestCloseRacesConnects closes the broker while clients keep arriving, some
// half-way through CONNECT, some connected: under -race this must report
// nothing (mochi v2.7.9's Server.Close alone races its own accept goroutines:
// ClientsWg.Add in attachClient against ClientsWg.Wait in CloseAll), and
// Close must return.
func TestCloseRacesConnects(t *testing.T) {
	for round := 0; round < 20; round++ {
		b, err := Start("127.0.0.1:0", nil)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
					if err != nil {
						continue // refused once closed: keep trying until stop
					}
					if i%2 == 0 {
						_, _ = c.Write(connectPacket)
					}
					_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
					_, _ = c.Read(make([]byte, 4))
					if i%4 != 0 {
						_ = c.Close()
					} else {
						defer c.Close() // some stay open through Close
					}
				}
			}(i)
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- b.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("round %d: Close: %v", round, err)
			}
		case <-time.After(10 * time.Second):
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("round %d: Close did not return", round)
		}
		time.Sleep(time.Millisecond) // connects against a closed broker
		close(stop)
		wg.Wait()
	}
}
