package trace

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

// benchTrace builds a store-like trace of n readings: mostly ToF zone
// distances at 40 Hz per zone, beam and plate edges, shelf distances and a
// reader token now and then.
func benchTrace(n int) []byte {
	var b bytes.Buffer
	b.WriteString(Magic + "\n# start 2026-03-02T09:00:00Z\n" +
		"# sensor door    kind=tof-2zone    role=entrance\n" +
		"# sensor street  kind=beam-pair    role=passerby\n" +
		"# sensor shelf-a kind=tof-presence role=shelf dwell_min_ms=3000\n" +
		"# sensor plate-1 kind=nfc-plate    role=plate shelf=shelf-a\n" +
		"# sensor reader  kind=nfc-reader   role=checkin\n" +
		Columns + "\n")
	line := make([]byte, 0, 64)
	for i := 0; i < n; i++ {
		t := int64(i) * 12
		line = strconv.AppendInt(line[:0], t, 10)
		switch {
		case i%500 == 499:
			line = append(line, ",reader,token,04a1b2c3d4e580"...)
		case i%10 == 3:
			line = append(line, ",street,"...)
			line = append(line, "ab"[i/10%2])
			line = append(line, ',', "01"[i/20%2])
		case i%10 == 7:
			line = append(line, ",plate-1,field,"...)
			line = append(line, "01"[i/10%2])
		case i%5 == 1:
			line = append(line, ",shelf-a,d,"...)
			line = strconv.AppendInt(line, int64(600+i%900), 10)
		default:
			line = append(line, ",door,z"...)
			line = append(line, "01"[i%2])
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(2400-i%1700), 10)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// BenchmarkReader measures NewReader + Next over a 200k-line trace.
// Rerun: go test -run '^$' -bench Reader -benchmem ./internal/trace/
func BenchmarkReader(b *testing.B) {
	const n = 200_000
	data := benchTrace(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var rd sensor.Reading
	start := time.Now()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			err := r.Next(&rd)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "readings/s")
}

// BenchmarkWriter measures Write over the same readings.
func BenchmarkWriter(b *testing.B) {
	h, rds, err := readAll(benchTrace(200_000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		w, err := NewWriter(io.Discard, h)
		if err != nil {
			b.Fatal(err)
		}
		for _, rd := range rds {
			if err := w.Write(rd); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rds))*float64(b.N)/time.Since(start).Seconds(), "readings/s")
}
