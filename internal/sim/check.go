package sim

import "fmt"

// configCheck builds the validation errors of one configuration: what it
// is ("sim config", "sim shelf config"...) and its Name.
type configCheck struct{ what, name string }

// bad is the error for field f of value v, saying what is wanted instead.
func (k configCheck) bad(f string, v any, want string) error {
	return fmt.Errorf("%s %q: %s = %v: %s", k.what, k.name, f, v, want)
}

// field is a named number of a configuration, for checks over several.
type field struct {
	name string
	v    float64
}

// probabilities reports the first field that is not a probability in
// [0,1] (NaN is not).
func (k configCheck) probabilities(fs ...field) error {
	return k.within(0, 1, "want a probability in [0,1]", fs...)
}

// within reports the first field outside [lo, hi] (NaN is outside).
func (k configCheck) within(lo, hi float64, want string, fs ...field) error {
	for _, f := range fs {
		if !(f.v >= lo && f.v <= hi) {
			return k.bad(f.name, f.v, want)
		}
	}
	return nil
}
