#!/usr/bin/env bash
# Reruns the figures of docs/PERFORMANCE.md on this machine.
#   scripts/bench.sh            all Go benchmarks + the daemon's RSS and fsyncs
#   scripts/bench.sh rss        only the daemon measurement
#   scripts/bench.sh fleet [N]  the fleet run of docs/FLEET.md (scripts/fleet.sh)
#   scripts/bench.sh drain      a daemon's durable drain vs raw paho (scripts/bench-drain.sh)
# Needs mosquitto for the drain benchmark and the daemon measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[ "$what" = drain ] && exec scripts/bench-drain.sh
export PATH=$PATH:/usr/sbin
if [ "$what" = fleet ]; then
  shift
  exec scripts/fleet.sh "$@"
fi

if [ "$what" = all ]; then
  go test -run '^$' -bench . -benchmem -benchtime 2s \
    ./cmd/edge-agent ./internal/trace ./internal/detect ./internal/buffer ./internal/sync ./internal/fleet 2>&1 |
    grep -E '^(Benchmark|ok|FAIL|---)' || true
fi

# The daemon with 64 simulated sensors (real drivers on emulated chips)
# publishing to a local Mosquitto: peak RSS and fsyncs per second.
. scripts/bench-lib.sh
bench_setup
bench_config 1m "broker: \"tcp://127.0.0.1:$port\""
"$tmp/edge-agent" config validate "$tmp/bench.yaml"
secs=${RSS_SECONDS:-150}
"$tmp/edge-agent" run --config "$tmp/bench.yaml" 2>"$tmp/agent.log" &
pid=$!
sleep 2
if command -v strace >/dev/null 2>&1; then
  timeout 30 strace -f -e trace=fsync,fdatasync -c -p "$pid" -o "$tmp/strace.txt" 2>/dev/null || true
  echo "fsync/fdatasync calls in 30 s at steady state:"; grep -E 'fsync|fdatasync|total' "$tmp/strace.txt" || echo "  none"
fi
peak=0
for _ in $(seq 1 "$secs"); do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 1
done
echo "edge-agent run, 64 simulated sensors: RSS now $(awk '/VmRSS/ {print $2}' /proc/$pid/status) kB, peak $peak kB over ${secs}s"
"$tmp/edge-agent" status --socket "$tmp/status.sock" | head -6
kill -TERM $pid; wait $pid || true
