package aggregate

import (
	"fmt"
	"time"
)

// closingClock finds the next occupancy reset: the next local time of day
// hh:mm in loc.
type closingClock struct {
	set          bool
	hour, minute int
	loc          *time.Location
}

func parseClosing(s string, loc *time.Location) (closingClock, error) {
	if s == "" {
		return closingClock{}, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return closingClock{}, fmt.Errorf("closing_time %q: want a local time of day as HH:MM, e.g. 22:00", s)
	}
	if loc == nil {
		loc = time.UTC
	}
	return closingClock{set: true, hour: t.Hour(), minute: t.Minute(), loc: loc}, nil
}

// next returns the first reset instant strictly after ms.
func (c closingClock) next(ms int64) int64 {
	t := time.UnixMilli(ms).In(c.loc)
	r := time.Date(t.Year(), t.Month(), t.Day(), c.hour, c.minute, 0, 0, c.loc)
	for !r.After(t) {
		r = time.Date(r.Year(), r.Month(), r.Day()+1, c.hour, c.minute, 0, 0, c.loc)
	}
	return r.UnixMilli()
}
