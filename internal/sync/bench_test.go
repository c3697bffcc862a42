package sync

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/testutil/mosquitto"
)

// benchPayload is the size of a real per-sensor window message.
func benchPayload(seq uint64) []byte {
	return []byte(fmt.Sprintf(`{"id":"s1-a1-door-%d","v":1,"sensor":"door","kind":"tof-2zone","start":"2026-11-23T10:00:00Z","end":"2026-11-23T10:01:00Z","in":3,"out":2,"passby":7,"seq":%d}`, seq, seq))
}

// BenchmarkDrainMosquitto drains b.N stored records from an in-memory
// outbox to a local mosquitto at QoS 1, each acked after its PUBACK.
//
//	go test -run '^$' -bench DrainMosquitto -benchtime 1000000x ./internal/sync/
func BenchmarkDrainMosquitto(b *testing.B) {
	br := mosquitto.Start(b, mosquitto.Options{})
	ob := newMemOutbox()
	for i := 0; i < b.N; i++ {
		seq := uint64(len(ob.recs) + 1)
		ob.recs = append(ob.recs, Record{Seq: seq, Topic: "agg/door", Payload: benchPayload(seq)})
		ob.acked = append(ob.acked, false)
		ob.pending++
	}
	timeDrain(b, br.URL(), ob, 1000, func() {
		for ob.pendingCount() > 0 {
			time.Sleep(time.Millisecond)
		}
	})
}

// BenchmarkRawPahoMosquitto is the baseline: paho publishing the same
// payloads at QoS 1 with up to 1000 PUBACKs outstanding, nothing else.
//
//	go test -run '^$' -bench RawPahoMosquitto -benchtime 1000000x ./internal/sync/
func BenchmarkRawPahoMosquitto(b *testing.B) {
	br := mosquitto.Start(b, mosquitto.Options{})
	c := paho.NewClient(paho.NewClientOptions().AddBroker(br.URL()).SetClientID("raw").
		SetCleanSession(true).SetAutoReconnect(false).SetProtocolVersion(4).SetOrderMatters(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer c.Disconnect(50)
	payloads := make([][]byte, b.N)
	for i := range payloads {
		payloads[i] = benchPayload(uint64(i + 1))
	}
	window := make(chan paho.Token, 1000)
	acked := make(chan int)
	go func() {
		n := 0
		for tok := range window {
			tok.Wait()
			if tok.Error() == nil {
				n++
			}
		}
		acked <- n
	}()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		window <- c.Publish("edge-agent/s1/a1/agg/door", 1, false, payloads[i])
	}
	close(window)
	n := <-acked
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if n != b.N {
		b.Fatalf("acked %d of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}

// cpuTime is the CPU time (user + system) this process has used: a figure
// that holds up better than wall time on a shared, busy machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
