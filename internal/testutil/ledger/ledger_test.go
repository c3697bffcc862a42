package ledger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/omo-edge/edge-agent/internal/buffer"
)

func msg(seq uint64, window int, count int) Message {
	body := fmt.Sprintf(`{"type":"sensor_window","id":"s/a/door/%d","seq":%d,"entries":%d}`, window, seq, count)
	m, ok := Parse("edge-agent/s/a/agg/door", []byte(body))
	if !ok {
		panic(body)
	}
	return m
}

func TestCheck(t *testing.T) {
	st := buffer.Stats{LastSeq: 4}
	a, b, c, d := msg(1, 10, 1), msg(2, 11, 0), msg(3, 12, 5), msg(4, 13, 2)
	for _, tc := range []struct {
		name            string
		delivered, left []Message
		lost, differing int
		problem         string
	}{
		{"all delivered, one twice", []Message{a, b, b, c, d}, nil, 0, 0, ""},
		{"the rest still buffered", []Message{a, b}, []Message{c, d}, 0, 0, ""},
		{"one missing", []Message{a, b, d}, nil, 1, 0, "seq 3 committed"},
		{"an id re-sent with other content", []Message{a, b, c, d, msg(2, 11, 9)}, nil, 0, 1, "two contents"},
		{"a seq used by two windows", []Message{a, b, c, d, msg(4, 14, 2)}, nil, 0, 1, "seq 4 used by"},
		{"a seq past the last committed", []Message{a, b, c, d, msg(5, 15, 0)}, nil, 0, 1, "seq 5 was seen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.delivered, tc.left, st)
			if r.Lost != tc.lost || r.Differing != tc.differing || r.Committed != 4 {
				t.Fatalf("%+v", r)
			}
			if err := r.Err(); (err == nil) != (tc.problem == "") || (err != nil && !strings.Contains(err.Error(), tc.problem)) {
				t.Fatalf("err %v, want %q", err, tc.problem)
			}
		})
	}
	if r := Check(nil, nil, buffer.Stats{}); r.Err() == nil {
		t.Fatal("nothing committed passed")
	}
}

// A committed window whose seq was handed out again after a lost commit
// passes the seq check but not the id check.
func TestCheckIDsCatchesAReusedSeq(t *testing.T) {
	committed := []Message{msg(1, 10, 1), msg(2, 11, 3)}
	delivered := []Message{msg(1, 10, 1), msg(2, 12, 0)} // seq 2 reused for window 12
	if err := Check(delivered, nil, buffer.Stats{LastSeq: 2}).Err(); err != nil {
		t.Fatalf("the seq check sees nothing wrong here, got %v", err)
	}
	lost, differing, problems := CheckIDs(committed, delivered, nil)
	if lost != 1 || differing != 0 || !strings.Contains(problems[0], "s/a/door/11") {
		t.Fatalf("lost %d differing %d %v", lost, differing, problems)
	}
	lost, differing, _ = CheckIDs(committed, []Message{msg(1, 10, 1)}, []Message{msg(2, 11, 4)})
	if lost != 0 || differing != 1 {
		t.Fatalf("a window buffered with other counts: lost %d differing %d", lost, differing)
	}
}
