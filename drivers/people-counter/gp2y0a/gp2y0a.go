package gp2y0a

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ADC is what the sensor's output is wired to: one channel of an
// analog-to-digital converter such as *mcp3008.Dev.
type ADC interface {
	Read(channel int) (int, error)
}

// Opts configures a Dev.
type Opts struct {
	// Curve maps voltage to distance. nil means GP2Y0A21YK0F.
	Curve *Curve
	// Vref is the ADC's reference voltage. 0 means 3.3 V.
	Vref float64
	// FullScale is the number of ADC codes (1024 for a 10-bit converter).
	// 0 means 1024.
	FullScale int
	// Samples is how many conversions one Read takes; the median is used,
	// which rejects single spikes from the sensor's LED current pulses.
	// 0 means 1.
	Samples int
}

// DefaultOpts reads a GP2Y0A21YK0F through a 10-bit ADC with VREF at 3.3 V.
var DefaultOpts = Opts{Vref: 3.3, FullScale: 1024, Samples: 1}

// Status says whether a reading has a distance.
type Status int

// Statuses of a Reading.
const (
	OK       Status = iota // DistanceMM is valid
	TooClose               // output above the curve
	TooFar                 // output below the curve: nothing in range
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case TooClose:
		return "too close"
	case TooFar:
		return "too far"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Reading is one measurement.
type Reading struct {
	DistanceMM int // -1 unless Status is OK
	Status     Status
	Volts      float64 // the sensor's output
	Code       int     // the ADC code it came from (median of the samples)
}

// Dev is a Sharp GP2Y0A sensor on one ADC channel.
type Dev struct {
	adc     ADC
	channel int
	opts    Opts

	mu    sync.Mutex
	codes []int
}

// New returns a sensor read through channel of adc.
func New(adc ADC, channel int, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Curve == nil {
		o.Curve = GP2Y0A21YK0F()
	}
	if o.Vref == 0 {
		o.Vref = DefaultOpts.Vref
	}
	if o.FullScale == 0 {
		o.FullScale = DefaultOpts.FullScale
	}
	if o.Samples == 0 {
		o.Samples = DefaultOpts.Samples
	}
	switch {
	case adc == nil:
		return nil, errors.New("gp2y0a: no ADC")
	case o.Vref < 0 || o.FullScale < 2 || o.Samples < 1:
		return nil, fmt.Errorf("gp2y0a: invalid Vref %g V, FullScale %d or Samples %d", o.Vref, o.FullScale, o.Samples)
	case channel < 0:
		return nil, fmt.Errorf("gp2y0a: channel %d is negative", channel)
	}
	return &Dev{adc: adc, channel: channel, opts: o, codes: make([]int, o.Samples)}, nil
}

// Read converts the output and maps it to a distance. An ADC failure is an
// error; an output outside the curve is a Reading with DistanceMM -1 and a
// Status saying which end.
func (d *Dev) Read() (Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.codes {
		c, err := d.adc.Read(d.channel)
		if err != nil {
			return Reading{DistanceMM: -1}, fmt.Errorf("gp2y0a: channel %d: %w", d.channel, err)
		}
		d.codes[i] = c
	}
	sort.Ints(d.codes)
	code := d.codes[len(d.codes)/2]
	r := Reading{Code: code, Volts: float64(code) * d.opts.Vref / float64(d.opts.FullScale)}
	mm, err := d.opts.Curve.Distance(r.Volts)
	switch {
	case err == nil:
		r.DistanceMM = mm
	case errors.Is(err, ErrTooClose):
		r.DistanceMM, r.Status = -1, TooClose
	default:
		r.DistanceMM, r.Status = -1, TooFar
	}
	return r, nil
}

func (d *Dev) String() string {
	return fmt.Sprintf("%s{channel %d}", d.opts.Curve.Name(), d.channel)
}

// Halt implements conn.Resource; the sensor measures continuously by
// itself, there is nothing to stop.
func (d *Dev) Halt() error { return nil }
