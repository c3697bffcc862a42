package trace

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omo-edge/edge-agent/internal/sensor"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.golden from the current error messages")

// readAll reads a whole trace; err is the first error other than io.EOF.
func readAll(data []byte) (Header, []sensor.Reading, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return Header{}, nil, err
	}
	var out []sensor.Reading
	for {
		var rd sensor.Reading
		err := r.Next(&rd)
		if err == io.EOF {
			return r.Header(), out, nil
		}
		if err != nil {
			return r.Header(), out, err
		}
		out = append(out, rd)
	}
}

func TestReadExample(t *testing.T) {
	data, err := os.ReadFile("testdata/store.trace")
	if err != nil {
		t.Fatal(err)
	}
	h, rds, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC); !h.Start.Equal(want) || h.Start.Location() != time.UTC {
		t.Errorf("Start = %v, want %v UTC", h.Start, want)
	}
	wantIDs := []string{"door", "street", "shelf-a", "plate-1", "reader"}
	wantLines := []int{4, 5, 6, 7, 8}
	if len(h.Sensors) != len(wantIDs) {
		t.Fatalf("%d sensors, want %d", len(h.Sensors), len(wantIDs))
	}
	for i, s := range h.Sensors {
		if s.ID != wantIDs[i] || h.SensorLines[i] != wantLines[i] {
			t.Errorf("sensor %d = %q on line %d, want %q on line %d", i, s.ID, h.SensorLines[i], wantIDs[i], wantLines[i])
		}
	}
	if s := h.Sensors[3]; s.Kind != sensor.KindNFCPlate || s.Role != sensor.RolePlate || s.Shelf != "shelf-a" {
		t.Errorf("plate-1 = %+v", s)
	}
	if s := h.Sensors[2]; s.DwellMinMs != 3000 || len(s.Params) != 0 {
		t.Errorf("shelf-a = %+v", s)
	}
	want := []sensor.Reading{
		{TMs: 0, Sensor: 0, Channel: 0, Value: 2398},
		{TMs: 25, Sensor: 0, Channel: 1, Value: 2405},
		{TMs: 25, Sensor: 1, Channel: 0, Value: 1},
		{TMs: 40, Sensor: 1, Channel: 1, Value: 1},
		{TMs: 90, Sensor: 1, Channel: 0, Value: 0},
		{TMs: 120, Sensor: 1, Channel: 1, Value: 0},
		{TMs: 500, Sensor: 2, Channel: 0, Value: -1},
		{TMs: 500, Sensor: 2, Channel: 0, Value: 812},
		{TMs: 1000, Sensor: 3, Channel: 0, Value: 1},
		{TMs: 1400, Sensor: 3, Channel: 0, Value: 0},
		{TMs: 2000, Sensor: 4, Channel: 0, Token: []byte{0x04, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0x80}},
		{TMs: 2100, Sensor: 4, Channel: 0, Token: []byte{0xde, 0xad, 0xbe, 0xef}},
	}
	assertReadings(t, rds, want)
}

func assertReadings(t *testing.T, got, want []sensor.Reading) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d readings, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.TMs != w.TMs || g.Sensor != w.Sensor || g.Channel != w.Channel || g.Value != w.Value || !bytes.Equal(g.Token, w.Token) {
			t.Errorf("reading %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestKindParamsKept(t *testing.T) {
	h, _, err := readAll([]byte(Magic + "\n# start 2026-03-02T09:00:00.250Z\n" +
		"# sensor door kind=tof-2zone role=entrance threshold_mm=1400 baseline_z0_mm=2400\n" +
		"# sensor street kind=pulse role=passerby counts_entrants=false\n" + Columns + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p := h.Sensors[0].Params; p["threshold_mm"] != "1400" || p["baseline_z0_mm"] != "2400" || len(p) != 2 {
		t.Errorf("Params = %v", p)
	}
	if h.Sensors[1].CountsEntrants {
		t.Error("counts_entrants=false not applied")
	}
	if h.Start.Nanosecond() != 250e6 {
		t.Errorf("Start = %v, want .250", h.Start)
	}
}

// A trace saved with CRLF line ends, or without a final newline, reads the
// same as the original.
func TestLineEnds(t *testing.T) {
	data, err := os.ReadFile("testdata/store.trace")
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string][]byte{
		"crlf":          bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")),
		"no final lf":   bytes.TrimSuffix(data, []byte("\n")),
		"crlf no final": bytes.TrimSuffix(bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), []byte("\r\n")),
	} {
		_, got, err := readAll(d)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		assertReadings(t, got, want)
	}
}

// Tokens must not be overwritten by later lines: detectors keep them.
func TestTokensStayValid(t *testing.T) {
	var b strings.Builder
	b.WriteString(Magic + "\n# start 2026-03-02T09:00:00Z\n# sensor r kind=nfc-reader role=checkin\n" + Columns + "\n")
	const n = 3000 // spans several token blocks
	for i := 0; i < n; i++ {
		b.WriteString("5,r,token,0102030405060708")
		b.WriteByte("0123456789abcdef"[i%16])
		b.WriteString("0\n")
	}
	_, rds, err := readAll([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, rd := range rds {
		want := []byte{1, 2, 3, 4, 5, 6, 7, 8, byte(i%16) << 4}
		if !bytes.Equal(rd.Token, want) || cap(rd.Token) != len(want) {
			t.Fatalf("reading %d token = %x (cap %d), want %x", i, rd.Token, cap(rd.Token), want)
		}
	}
}

func TestErrorIsStickyAndTyped(t *testing.T) {
	r, err := NewReader(strings.NewReader(Magic + "\n# start 2026-03-02T09:00:00Z\n# sensor d kind=pir role=shelf\n" +
		Columns + "\n1,d,motion,1\n2,d,motion,7\n3,d,motion,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	var rd sensor.Reading
	if err := r.Next(&rd); err != nil || rd.Value != 1 {
		t.Fatalf("first Next = %v, %+v", err, rd)
	}
	err1 := r.Next(&rd)
	var e *Error
	if !errors.As(err1, &e) || e.Line != 6 {
		t.Fatalf("second Next = %v, want *Error on line 6", err1)
	}
	if err2 := r.Next(&rd); err2 != err1 {
		t.Errorf("after an error Next = %v, want the same error again", err2)
	}
}

func TestManySensorsUseIndex(t *testing.T) {
	var b strings.Builder
	b.WriteString(Magic + "\n# start 2026-03-02T09:00:00Z\n")
	const n = 40
	for i := 0; i < n; i++ {
		b.WriteString("# sensor p" + strconv.Itoa(i) + " kind=pir role=shelf\n")
	}
	b.WriteString(Columns + "\n")
	for i := n - 1; i >= 0; i-- {
		b.WriteString("7,p" + strconv.Itoa(i) + ",motion,1\n")
	}
	b.WriteString("8,pz9,motion,1\n")
	r, err := NewReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if r.byID == nil {
		t.Fatal("expected map lookup for many sensors")
	}
	var rd sensor.Reading
	for i := n - 1; i >= 0; i-- {
		if err := r.Next(&rd); err != nil || rd.Sensor != i {
			t.Fatalf("reading for sensor %d: got %d, %v", i, rd.Sensor, err)
		}
	}
	if err := r.Next(&rd); err == nil || !strings.Contains(err.Error(), `undeclared sensor "pz9"`) {
		t.Errorf("undeclared sensor: %v", err)
	}
}

func TestValueLimits(t *testing.T) {
	hdr := Magic + "\n# start 2026-03-02T09:00:00Z\n# sensor d kind=tof-presence role=shelf\n" + Columns + "\n"
	for _, tc := range []struct {
		line string
		want int64
		ok   bool
	}{
		{"0,d,d,9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775807,d,d,5", 5, true},
		{"0,d,d,-1", -1, true},
		{"0,d,d,-0", 0, true},
		{"0,d,d,007", 7, true},
		{"0,d,d,-9223372036854775808", 0, false}, // parses, but < -1
		{"0,d,d,-9223372036854775809", 0, false},
		{"0,d,d,18446744073709551616", 0, false},
		{"0,d,d,+5", 0, false},
		{"0,d,d,-", 0, false},
		{"0,d,d,", 0, false},
		{",d,d,5", 0, false},
		{"-0,d,d,5", 0, false},
	} {
		_, rds, err := readAll([]byte(hdr + tc.line + "\n"))
		if tc.ok != (err == nil) {
			t.Errorf("%q: err = %v, want ok=%v", tc.line, err, tc.ok)
			continue
		}
		if tc.ok && rds[0].Value != tc.want {
			t.Errorf("%q: value %d, want %d", tc.line, rds[0].Value, tc.want)
		}
	}
}

func TestLineTooLong(t *testing.T) {
	data := Magic + "\n# start 2026-03-02T09:00:00Z\n# " + strings.Repeat("x", MaxLineLen) + "\n" + Columns + "\n"
	_, err := NewReader(strings.NewReader(data))
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || !strings.Contains(e.Msg, "longer than") {
		t.Errorf("err = %v, want line 3 too long", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrorIsLineError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(Magic+"\n# start 2026-03-02T09:00:00Z\n"), failingReader{})
	_, err := NewReader(r)
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || !strings.Contains(e.Msg, "disk on fire") {
		t.Errorf("err = %v, want line 3 read error", err)
	}
}

// Each testdata/bad/NAME.trace must fail with exactly the message in
// NAME.golden. Run with -update to rewrite the golden files.
func TestErrorsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad traces: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".trace")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = readAll(data)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Line < 1 {
				t.Errorf("line %d < 1", e.Line)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".trace") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("error:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// Reading must not allocate per line: that is what makes replay fast.
func TestNextDoesNotAllocate(t *testing.T) {
	data := benchTrace(2000)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var rd sensor.Reading
	allocs := testing.AllocsPerRun(1000, func() {
		if err := r.Next(&rd); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per Next, want 0", allocs)
	}
}
