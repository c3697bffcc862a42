#!/usr/bin/env bash
# The fleet figures of docs/FLEET.md: STORES simulated stores (default 1000),
# each a real agent, against a Mosquitto of their own on its own port, with
# a shared broker outage (1 h of store time at 30x) and a reconnect storm.
# The defaults here are the budget docs/FLEET.md derives for this machine
# (reconnect_spread 2m: at most ~17 connects/s and ~3k backlog msg/s);
# extra arguments go to edge-agent fleet-sim and override them, e.g.
#   scripts/fleet.sh 1000 --outage 2h --reconnect-spread 30s
# The JSON summary goes to stdout (and to $FLEET_OUT when set); progress
# and the load average to stderr. Exits non-zero when a window was lost.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin
stores=${1:-1000}
[ $# -gt 0 ] && shift

base=/tmp
[ -d /dev/shm ] && base=/dev/shm # each real store fsyncs its own card; see docs/FLEET.md
dir=$(mktemp -d "$base/edge-agent-fleet-XXXXXX")
trap 'rm -rf "$dir"' EXIT
port=${FLEET_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}

# Mosquitto for a fleet: no connection cap, no queue or in-flight caps (the
# consumer must not lose what the broker acked), persistence so the
# consumer's session and its queued messages survive the restart.
cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_connections -1
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
memory_limit 0
persistence true
persistence_location $dir/
autosave_interval 0
log_dest stderr
log_type error
log_type warning
log_type notice
CONF
[ "$(id -u)" = 0 ] && echo "user root" >> "$dir/mosquitto.conf"

CGO_ENABLED=0 go build -o "$dir/edge-agent" ./cmd/edge-agent
echo "fleet: $stores stores, mosquitto on 127.0.0.1:$port, state in $dir; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Mosquitto gets the file descriptor limit of its shell, not Go's raised one.
rc=0
"$dir/edge-agent" fleet-sim --stores "$stores" --output json --dir "$dir/stores" \
  --broker "tcp://127.0.0.1:$port" \
  --broker-cmd "ulimit -n \$(ulimit -Hn); exec mosquitto -c $dir/mosquitto.conf" \
  --outage 1h --speedup 30 --reconnect-spread 2m --backoff-max 2m "$@" > "$dir/summary.json" || rc=$?
cat "$dir/summary.json"
[ -n "${FLEET_OUT:-}" ] && cp "$dir/summary.json" "$FLEET_OUT"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ $rc -ne 0 ]; then
  echo "fleet-sim exited $rc; mosquitto log:" >&2
  tail -20 "$dir/stores/broker.log" >&2 || true
fi
exit $rc
