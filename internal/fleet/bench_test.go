package fleet

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// BenchmarkConsumerHandle: what the consumer costs per window message
// (parse, dedupe, per-store totals), the cloud side's share of a drain.
func BenchmarkConsumerHandle(b *testing.B) {
	msgs := make([][]byte, 1000)
	for i := range msgs {
		msgs[i] = window("s1", uint64(i+1), int64(i*60), i%2 == 0)
	}
	c := NewConsumer()
	at := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Handle(msgs[i%len(msgs)], at)
	}
}

// BenchmarkConsumerFromMosquitto: window messages/s one consumer (a
// persistent QoS 1 subscription through paho) takes from a local
// Mosquitto, published by 8 clients at once: the cloud side's capacity
// that a fleet's backlog budget must stay under (docs/FLEET.md).
func BenchmarkConsumerFromMosquitto(b *testing.B) {
	br := mosquitto.Start(b, mosquitto.Options{})
	c := NewConsumer()
	stop, err := c.Subscribe(context.Background(), SubscribeOptions{Broker: br.URL(), ClientID: "bench", TopicPrefix: "edge-agent"})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	const pubs = 8
	per := max(b.N/pubs, 1)
	b.ResetTimer()
	var wg sync.WaitGroup
	for p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(br.URL()).SetClientID(fmt.Sprint("pub", p)))
			if tok := cl.Connect(); tok.Wait() && tok.Error() != nil {
				b.Error(tok.Error())
				return
			}
			defer cl.Disconnect(100)
			store := fmt.Sprint("s", p)
			var last mqtt.Token
			for i := range per {
				last = cl.Publish("edge-agent/"+store+"/pi/store", 1, false, window(store, uint64(i+1), int64(i*60), false))
				if i%500 == 499 {
					last.Wait() // a bounded window in flight
				}
			}
			last.Wait()
		}()
	}
	wg.Wait()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if w, _, _, _ := c.Counts(); w >= uint64(pubs*per) {
			break
		}
	}
	b.StopTimer()
	w, _, _, _ := c.Counts()
	b.ReportMetric(float64(w)/b.Elapsed().Seconds(), "msg/s")
}
