package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/broker"
)

// The example consumer against an embedded broker: windows of two stores,
// one delivered twice, and a status message it must ignore.
func TestConsumerCountsStores(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--broker", b.URL(), "--client-id", "test-consumer", "--duration", "1500ms", "--output", "json"}, &out)
	}()
	time.Sleep(500 * time.Millisecond) // subscribed (the connect is local)
	msg := func(store string, seq int) []byte {
		return fmt.Appendf(nil, `{"v":1,"type":"sensor_window","id":"%s/pi/door/%d","seq":%d,"store":"%s","agent":"pi","window_end":"2026-03-02T09:01:00Z"}`,
			store, 1772442000+60*seq, seq, store)
	}
	for _, m := range []struct {
		topic   string
		payload []byte
	}{
		{"edge-agent/s1/pi/agg/door", msg("s1", 1)},
		{"edge-agent/s1/pi/agg/door", msg("s1", 2)},
		{"edge-agent/s1/pi/agg/door", msg("s1", 2)},
		{"edge-agent/s2/pi/agg/door", msg("s2", 1)},
		{"edge-agent/s2/pi/status", []byte(`{"state":"online"}`)},
	} {
		if err := b.Publish(m.topic, m.payload, false, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got struct {
		Windows, Deliveries, Duplicates uint64
		Stores                          []struct {
			Store   string
			Windows uint64
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.Windows != 3 || got.Deliveries != 4 || got.Duplicates != 1 || len(got.Stores) != 2 ||
		got.Stores[0].Store != "s1" || got.Stores[0].Windows != 2 {
		t.Errorf("output %s", out.String())
	}
}

func TestConsumerBadFlags(t *testing.T) {
	err := run([]string{"--output", "yaml"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--output") {
		t.Errorf("err = %v", err)
	}
}
