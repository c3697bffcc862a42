# Sourced by scripts/bench.sh and scripts/bench-drain.sh.

# bench_setup makes $tmp (removed at exit, with the background jobs), starts
# Mosquitto on a free port ($port) and builds $tmp/edge-agent.
bench_setup() {
  tmp=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n' "$port" > "$tmp/mosquitto.conf"
  mosquitto -c "$tmp/mosquitto.conf" >/dev/null 2>&1 &
  CGO_ENABLED=0 go build -o "$tmp/edge-agent" ./cmd/edge-agent
}

# bench_config WINDOW MQTT [MORE] writes $tmp/bench.yaml: the simulated
# store with windows of WINDOW, mqtt: {MQTT} and the MORE lines.
bench_config() {
  {
    cat <<YAML
store_id: bench-store
agent_id: bench-pi
state_dir: $tmp/state
status_socket: $tmp/status.sock
log_level: warn
window: $1
clock: {require_sync: false}
mqtt: {$2}
${3:-}
sensors:
YAML
    bench_sensors
  } > "$tmp/bench.yaml"
}

# bench_sensors prints the sensors: entries of the benchmarks' simulated
# store: 64 sensors (22 VL53L1X emulators, 21 beam pairs and 21 pulse
# counters on fake GPIO).
bench_sensors() {
  for i in $(seq 1 22); do
    printf '  - {id: door-%d, kind: tof-2zone, role: entrance, bus: sim, timing_budget: 20ms, simulate: {seed: %d, per_minute: 20}}\n' "$i" "$i"
  done
  for i in $(seq 1 21); do
    printf '  - {id: street-%d, kind: beam-pair, role: passerby, pins: {a: A%d, b: B%d}, simulate: {seed: %d, per_minute: 60}}\n' "$i" "$i" "$i" "$((100+i))"
  done
  for i in $(seq 1 21); do
    printf '  - {id: counter-%d, kind: pulse, role: entrance, pins: {in: I%d, out: O%d}, simulate: {seed: %d, per_minute: 10}}\n' "$i" "$i" "$i" "$((200+i))"
  done
}
