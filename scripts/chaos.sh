#!/usr/bin/env bash
# The chaos run of docs/RELIABILITY.md: the real daemon under SIGKILLs, power
# cuts (a restart from a torn copy of the last synced outbox image), broker
# outages and a full state filesystem (a tmpfs; needs root), at random
# seeded moments, then the check by message id. Prints the summary line:
#   chaos: kills=… broker_outages=… disk_full=… power_cuts=… committed=… delivered=… in_outbox=… lost=0 differing=0 (seed=… …)
#
#   scripts/chaos.sh                      100 kills, 20 power cuts, 10 outages, 5 disk-full,
#                                         in 5 rounds (each a fresh state dir and broker)
#   KILLS=300 CUTS=60 ROUNDS=3 SEED=42 scripts/chaos.sh
#   RACE=1 scripts/chaos.sh               the daemon and harness with the race detector
# A full disk only bites when the outbox must grow (bbolt reuses its free
# pages first), which an old file with a big high-water mark rarely needs:
# rounds keep the files young. A failure names its seed: rerun it with the
# same SEED, counts and ROUNDS. Needs mosquitto.
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
  -chaos.broker-outages="${OUTAGES:-10}" -chaos.disk-full="${DISKFULL:-5}" -chaos.rounds="${ROUNDS:-5}" >"$log" 2>&1
rc=$?
set -e
grep -E 'chaos: (seed [0-9]+,|fault .*disk full for)' "$log" | sed 's/^ *chaos[_a-z]*\.go:[0-9]*: //' || true
if [ $rc -ne 0 ]; then
  grep -E -- '--- FAIL|chaos.*(lost|differ|exited|timed out|moved aside)|panic' "$log" | head -20
  echo "chaos: FAILED (seed $seed), full log in $log" >&2
  exit $rc
fi
# One line per round, then the total.
grep -o 'chaos: kills=.*' "$log" | sed '$!s/^/  round: /'
rm -f "$log"
