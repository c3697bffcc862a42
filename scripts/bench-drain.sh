#!/usr/bin/env bash
# scripts/bench.sh drain: a running daemon drains a durable backlog from its
# bbolt outbox to a local Mosquitto, timed against raw paho in the same run.
#
#   1. fills an outbox with DRAIN_N windows (default 1M) in the daemon's own
#      topics and payloads (internal/drainbench fill, through internal/buffer);
#   2. starts Mosquitto on its own port;
#   3. alternating DRAIN_ROUNDS times (default 2): the real `edge-agent run`
#      on a copy of that state dir with 64 simulated sensors counting
#      (2 s windows, mqtt.backlog_rate 0 = unlimited), timed from connected
#      to an outbox holding nothing of the backlog; then raw paho at QoS 1,
#      nothing stored, the same payloads and the same 1000 in flight;
#   4. the durable drain again with a slow disk: a -tags slowdisk build that
#      adds EDGE_AGENT_FSYNC_DELAY to each fdatasync (DRAIN_DELAYS, default
#      "2ms 10ms 20ms").
# The daemon runs under strace (seccomp filter: only fsync and fdatasync
# stop it) to count its syncs; CPU is utime+stime of the daemon from /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin
n=${DRAIN_N:-1000000}
rounds=${DRAIN_ROUNDS:-2}
delays=${DRAIN_DELAYS:-2ms 10ms 20ms}

if ! command -v strace >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y strace >/dev/null; else echo "strace missing: fsyncs not counted" >&2; fi
fi

. scripts/bench-lib.sh
bench_setup
CGO_ENABLED=0 go build -tags slowdisk -o "$tmp/edge-agent-slowdisk" ./cmd/edge-agent
CGO_ENABLED=0 go build -o "$tmp/drainbench" ./internal/drainbench

bench_config 2s "broker: \"tcp://127.0.0.1:$port\", backlog_rate: 0, max_inflight: 1000" 'buffer: {max_bytes: 2GiB}'
"$tmp/edge-agent" config validate "$tmp/bench.yaml" >/dev/null

echo "filling the outbox with $n windows..."
"$tmp/drainbench" fill -config "$tmp/bench.yaml" -n "$n"
mv "$tmp/state" "$tmp/filled"

# durable BIN LABEL: one drain of a fresh copy of the filled outbox.
durable() {
  rm -rf "$tmp/state" && cp -r "$tmp/filled" "$tmp/state"
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  local t0; t0=$(date +%s.%N)
  if command -v strace >/dev/null 2>&1; then
    strace -f --seccomp-bpf -e trace=fsync,fdatasync -c -o "$tmp/strace.txt" \
      "$1" run --config "$tmp/bench.yaml" >/dev/null 2>"$tmp/agent.log" &
    local spid=$!
    local pid=""
    for _ in $(seq 1 100); do pid=$(pgrep -P "$spid" || true); [ -n "$pid" ] && break; sleep 0.05; done
  else
    "$1" run --config "$tmp/bench.yaml" >/dev/null 2>"$tmp/agent.log" &
    local spid=$! pid=$!
  fi
  local out rc=0
  out=$("$tmp/drainbench" watch -config "$tmp/bench.yaml" -pid "$pid" -backlog "$n") || rc=$?
  if ! kill -TERM "$pid" 2>/dev/null && [ "$rc" = 0 ]; then rc="0, but the daemon had exited"; fi
  wait "$spid" || true
  if [ "$rc" != 0 ]; then
    echo "$2: watch failed (exit $rc); daemon log:" >&2
    tail -5 "$tmp/agent.log" >&2; tail -3 "$tmp/strace.txt" 2>/dev/null >&2; return 1
  fi
  local life; life=$(echo "$(date +%s.%N) - $t0" | bc)
  local syncs=na
  if [ -f "$tmp/strace.txt" ]; then
    syncs=$(awk '$NF=="fsync"||$NF=="fdatasync" {s+=$4} END {print s+0}' "$tmp/strace.txt")
    rm -f "$tmp/strace.txt"
    syncs="$syncs fsync_per_s=$(echo "scale=1; $syncs / $life" | bc)"
  fi
  echo "$2 $out fsync_calls=$syncs daemon_secs=$(printf %.1f "$life") load=$load"
  grep -iE 'error|panic' "$tmp/agent.log" | head -3 || true
}

raw() {
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "raw-paho $("$tmp/drainbench" raw -config "$tmp/bench.yaml" -n "$n") load=$load"
}

for r in $(seq 1 "$rounds"); do
  durable "$tmp/edge-agent" durable | tee -a "$tmp/results"
  raw | tee -a "$tmp/results"
done
for d in $delays; do
  EDGE_AGENT_FSYNC_DELAY=$d durable "$tmp/edge-agent-slowdisk" "durable-fsync+$d" | tee -a "$tmp/results"
done

echo
awk '
  function v(k,  i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } }
  $1 == "durable" { d += v("msg_per_s"); nd++; c += v("cpu_us_per_msg"); cn += v("net_of_counting"); f += v("fsync_per_s"); w += v("written_mb"); l = l " " v("max_ms"); li = li " " v("idle_max_ms") }
  $1 == "raw-paho" { p += v("msg_per_s"); np++ }
  $1 ~ /^durable-fsync/ { slow = slow sprintf("  %s: %s msg/s, live p99 %s ms\n", substr($1, 9), v("msg_per_s"), v("p99_ms")) }
  END {
    printf "durable drain: %.0f msg/s (mean of %d), %.1f CPU-us/msg (daemon; %.1f net of counting), %.1f fsyncs/s, %.0f MB written\n", d/nd, nd, c/nd, cn/nd, f/nd, w/nd
    printf "live windows, worst window-end-to-arrival per run (ms), during the drain:%s; after it:%s\n", l, li
    printf "raw paho:      %.0f msg/s (mean of %d)\n", p/np, np
    printf "ratio durable/raw: %.2f\n", (d/nd)/(p/np)
    printf "slow disk (fsync delay per fdatasync):\n%s", slow
  }' "$tmp/results"
