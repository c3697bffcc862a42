package fleet

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// logTap is the stores' slog handler: it timestamps the publishers'
// "connected" and "connect failed" records (the connect storm, seen from
// the agents), counts every warning and error by message, and passes
// errors that are not part of an outage on to out.
type logTap struct {
	mu       sync.Mutex
	connects []time.Time
	failures []time.Time
	counts   map[string]int
	out      *slog.Logger
}

func newLogTap(out *slog.Logger) *logTap { return &logTap{counts: map[string]int{}, out: out} }

func (t *logTap) handler() slog.Handler { return tapHandler{t: t} }

type tapHandler struct {
	t     *logTap
	attrs []slog.Attr
}

func (h tapHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h tapHandler) Handle(ctx context.Context, r slog.Record) error {
	t := h.t
	now := time.Now()
	t.mu.Lock()
	switch {
	case r.Message == "connected":
		t.connects = append(t.connects, now)
	case r.Message == "connect failed":
		t.failures = append(t.failures, now)
	}
	if r.Level >= slog.LevelWarn {
		t.counts[r.Message]++
	}
	t.mu.Unlock()
	if r.Level >= slog.LevelError && r.Message != "connect failed" && t.out != nil {
		r2 := r.Clone()
		r2.AddAttrs(h.attrs...)
		return t.out.Handler().Handle(ctx, r2)
	}
	return nil
}

func (h tapHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return tapHandler{t: h.t, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h tapHandler) WithGroup(string) slog.Handler { return h }

// since returns the connect and failure times at or after t0.
func (t *logTap) since(t0 time.Time) (connects, failures []time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.connects {
		if !c.Before(t0) {
			connects = append(connects, c)
		}
	}
	for _, c := range t.failures {
		if !c.Before(t0) {
			failures = append(failures, c)
		}
	}
	return connects, failures
}

// warnings returns the warning and error counts by message.
func (t *logTap) warnings() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out
}

// perSecond is the largest number of times in any one-second bucket
// counted from t0, and the span from the first to the last.
func perSecond(ts []time.Time, t0 time.Time) (peak int, span time.Duration) {
	return perWindow(ts, t0, time.Second)
}

// perWindow is perSecond with buckets of width w.
func perWindow(ts []time.Time, t0 time.Time, w time.Duration) (peak int, span time.Duration) {
	if len(ts) == 0 {
		return 0, 0
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	buckets := map[int64]int{}
	for _, x := range ts {
		b := int64(x.Sub(t0) / w)
		buckets[b]++
		peak = max(peak, buckets[b])
	}
	return peak, ts[len(ts)-1].Sub(ts[0])
}

// histogram counts ts (at or after t0) per second from t0.
func histogram(ts []time.Time, t0 time.Time) []int {
	var h []int
	for _, x := range ts {
		b := int(x.Sub(t0) / time.Second)
		for len(h) <= b {
			h = append(h, 0)
		}
		h[b]++
	}
	return h
}
