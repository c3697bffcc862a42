package main

import (
	"strings"
	"testing"
)

func TestFleetSimBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fleet-sim", "--output", "yaml"}, "--output"},
		{[]string{"fleet-sim", "--broker-cmd", "mosquitto"}, "--broker-cmd needs --broker"},
		{[]string{"fleet-sim", "--broker", "tcp://127.0.0.1:1"}, "--broker-cmd"},
		{[]string{"fleet-sim", "--stores", "0"}, "--stores 0: want at least 1"},
		{[]string{"fleet-sim", "--outage", "0s"}, "--outage 0s"},
		{[]string{"fleet-sim", "--warmup", "0s"}, "--warmup 0s"},
		{[]string{"fleet-sim", "--speedup", "0.5"}, "--speedup 0.5"},
		{[]string{"fleet-sim", "--backoff-max", "0s"}, "--backoff-max 0s"},
		{[]string{"fleet-sim", "--reconnect-spread", "-1s"}, "--reconnect-spread -1s"},
		{[]string{"fleet-sim", "--backlog-rate", "-1"}, "--backlog-rate -1"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to name %q", tc.args, code, errOut, tc.want)
		}
	}
}
