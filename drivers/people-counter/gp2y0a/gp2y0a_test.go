package gp2y0a

import (
	"errors"
	"math"
	"testing"

	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008"
	"github.com/omo-edge/edge-agent/drivers/people-counter/mcp3008/mcp3008test"
)

func TestDatasheetAnchors(t *testing.T) {
	for _, c := range []struct {
		curve            *Curve
		near, far        int
		vFar, deltaNearV float64
	}{
		// VO at the far end 0.4 V typ; output change far -> near 1.9 V / 2.05 V typ
		{GP2Y0A21YK0F(), 100, 800, 0.4, 1.9},
		{GP2Y0A02YK0F(), 200, 1500, 0.4, 2.05},
	} {
		lo, hi := c.curve.Range()
		if lo != c.near || hi != c.far {
			t.Errorf("%s: range %d..%d mm, want %d..%d", c.curve.Name(), lo, hi, c.near, c.far)
		}
		vFar, _ := c.curve.Voltage(c.far)
		vNear, _ := c.curve.Voltage(c.near)
		if math.Abs(vFar-c.vFar) > 1e-9 || math.Abs(vNear-vFar-c.deltaNearV) > 1e-9 {
			t.Errorf("%s: %g V far, %g V change, want %g and %g", c.curve.Name(), vFar, vNear-vFar, c.vFar, c.deltaNearV)
		}
	}
}

func TestRoundTripEveryMillimetre(t *testing.T) {
	for _, c := range []*Curve{GP2Y0A21YK0F(), GP2Y0A02YK0F()} {
		lo, hi := c.Range()
		prev := math.Inf(1)
		for mm := lo; mm <= hi; mm++ {
			v, err := c.Voltage(mm)
			if err != nil {
				t.Fatal(err)
			}
			if v >= prev {
				t.Fatalf("%s: voltage not decreasing at %d mm", c.Name(), mm)
			}
			prev = v
			got, err := c.Distance(v)
			if err != nil || got != mm {
				t.Fatalf("%s: Distance(Voltage(%d mm) = %g V) = %d, %v", c.Name(), mm, v, got, err)
			}
		}
	}
}

func TestInterpolationIsInInverseDistance(t *testing.T) {
	c, err := NewCurve("two points", []Point{{100, 2.0}, {400, 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	// 1/L halfway between 1/100 and 1/400 is 1/160; linear in L would say 250.
	if got, _ := c.Distance(1.25); got != 160 {
		t.Fatalf("Distance(1.25 V) = %d mm, want 160 (inverse-distance interpolation)", got)
	}
}

func TestOutOfRange(t *testing.T) {
	c := GP2Y0A21YK0F()
	for v, want := range map[float64]error{0.3: ErrTooFar, 0: ErrTooFar, 2.5: ErrTooClose, 3.1: ErrTooClose} {
		mm, err := c.Distance(v)
		if !errors.Is(err, want) || !errors.Is(err, ErrNoRange) || mm != -1 {
			t.Errorf("Distance(%g V) = %d, %v; want -1, %v", v, mm, err, want)
		}
	}
	if mm, err := c.Distance(math.NaN()); err == nil || mm != -1 {
		t.Errorf("Distance(NaN) = %d, %v", mm, err)
	}
	if _, err := c.Voltage(99); err == nil {
		t.Error("Voltage(99 mm) accepted for a 100..800 mm sensor")
	}
}

func TestNewCurveRejects(t *testing.T) {
	for name, pts := range map[string][]Point{
		"one point":      {{100, 2}},
		"zero distance":  {{0, 2}, {100, 1}},
		"not increasing": {{100, 2}, {100, 1}},
		"not decreasing": {{100, 1}, {200, 1}},
		"NaN":            {{100, math.NaN()}, {200, 1}},
	} {
		if _, err := NewCurve(name, pts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The whole chain: the sensor's voltage on an emulated MCP3008 channel,
// read and mapped back to a distance.
func TestDevThroughMCP3008(t *testing.T) {
	curve := GP2Y0A21YK0F()
	mm := 450
	chip := mcp3008test.New(3.3, func(ch int) float64 {
		if ch != 2 {
			return 0
		}
		if mm < 0 {
			return 0.25 // nothing in front: below the curve
		}
		v, _ := curve.Voltage(mm)
		return v
	})
	adc, err := mcp3008.New(chip, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(adc, 2, &Opts{Samples: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{120, 300, 450, 780} {
		mm = want
		r, err := d.Read()
		if err != nil {
			t.Fatal(err)
		}
		// one ADC step (3.2 mV) is about 2.5 mm at 45 cm, 12 mm at 78 cm
		if r.Status != OK || math.Abs(float64(r.DistanceMM-want)) > float64(want)/50 {
			t.Fatalf("at %d mm read %+v", want, r)
		}
	}
	mm = -1
	if r, err := d.Read(); err != nil || r.Status != TooFar || r.DistanceMM != -1 {
		t.Fatalf("nothing in range read %+v, %v", r, err)
	}
	if s := chip.Stats(); s.Conversions != 15 {
		t.Fatalf("%d conversions, want 3 per Read", s.Conversions)
	}
}

type failingADC struct{}

func (failingADC) Read(int) (int, error) { return 0, errors.New("bus gone") }

type spikyADC struct{ codes []int }

func (a *spikyADC) Read(int) (int, error) {
	c := a.codes[0]
	a.codes = a.codes[1:]
	return c, nil
}

func TestDevMedianAndErrors(t *testing.T) {
	// 0.74 V (40 cm) is code 230 at 3.3 V; a spike of 1023 is rejected.
	d, _ := New(&spikyADC{codes: []int{230, 1023, 229}}, 0, &Opts{Samples: 3})
	if r, _ := d.Read(); r.Code != 230 || r.Status != OK {
		t.Fatalf("median read %+v, want code 230", r)
	}
	d, _ = New(failingADC{}, 0, nil)
	if _, err := d.Read(); err == nil {
		t.Fatal("ADC failure not reported")
	}
	if _, err := New(nil, 0, nil); err == nil {
		t.Fatal("nil ADC accepted")
	}
	if _, err := New(failingADC{}, 0, &Opts{Samples: -1}); err == nil {
		t.Fatal("negative Samples accepted")
	}
}

func FuzzDistance(f *testing.F) {
	for _, v := range []float64{0, 0.4, 1.3, 2.3, 2.31, -1, math.Inf(1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		for _, c := range []*Curve{GP2Y0A21YK0F(), GP2Y0A02YK0F()} {
			mm, err := c.Distance(v)
			lo, hi := c.Range()
			if err == nil && (mm < lo || mm > hi) {
				t.Fatalf("%s: Distance(%g) = %d outside %d..%d", c.Name(), v, mm, lo, hi)
			}
			if err != nil && mm != -1 {
				t.Fatalf("%s: Distance(%g) = %d with error %v", c.Name(), v, mm, err)
			}
		}
	})
}

func BenchmarkDistance(b *testing.B) {
	c := GP2Y0A02YK0F()
	for i := 0; i < b.N; i++ {
		_, _ = c.Distance(0.4 + float64(i%2000)/1000)
	}
}
