#!/usr/bin/env bash
# The chaos run of docs/RELIABILITY.md: the real daemon under SIGKILLs, power
# cuts (a restart from a torn copy of the last synced outbox image), broker
# outages and a full state filesystem (a tmpfs; needs root), at random
# seeded moments, then the check by message id. Prints the summary line:
#   chaos: seed=… kills=… broker_outages=… disk_full=… power_cuts=… committed=… delivered=… in_outbox=… lost=0 differing=0 (…)
#
#   scripts/chaos.sh                      100 kills, 20 power cuts, 10 outages, 5 disk-full
#   KILLS=300 CUTS=60 SEED=42 scripts/chaos.sh
#   RACE=1 scripts/chaos.sh               the daemon and harness with the race detector
# A failure names its seed: rerun it with SEED=<seed>. Needs mosquitto.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin

seed=${SEED:-$(date +%s)}
race=()
[ "${RACE:-0}" = 1 ] && race=(-race)
log=$(mktemp /tmp/chaos.XXXXXX.log)
set +e
go test "${race[@]}" -count=1 -timeout 60m -run '^TestChaosIntegration$' -v ./internal/chaos \
  -args -chaos.seed="$seed" -chaos.kills="${KILLS:-100}" -chaos.power-cuts="${CUTS:-20}" \
  -chaos.broker-outages="${OUTAGES:-10}" -chaos.disk-full="${DISKFULL:-5}" >"$log" 2>&1
rc=$?
set -e
grep -E 'chaos: (seed|fault .*(disk|power))' "$log" | sed 's/^ *chaos[_a-z]*\.go:[0-9]*: //' | grep -v '^chaos: seed=' || true
if [ $rc -ne 0 ]; then
  grep -E -- '--- FAIL|chaos.*(lost|differ|exited|timed out|moved aside)|panic' "$log" | head -20
  echo "chaos: FAILED (seed $seed), full log in $log" >&2
  exit $rc
fi
grep -o 'chaos: seed=.*' "$log"
rm -f "$log"
