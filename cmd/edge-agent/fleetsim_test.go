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
		{[]string{"fleet-sim", "--stores", "0"}, "stores: must be at least 1"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to name %q", tc.args, code, errOut, tc.want)
		}
	}
}
