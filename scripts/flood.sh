#!/usr/bin/env bash
# The command flood at full scale (docs/RELIABILITY.md, "Command flood"):
# the real daemon binary counts a simulated store while the cloud sends it
# malformed and oversized commands; prints replies, log lines, peak RSS.
#   scripts/flood.sh                 10,000 commands in 60 s (the issue's figure)
#   scripts/flood.sh 50000 120       50,000 in 120 s
# CI runs the same test compressed (10,000 in 20 s). Needs mosquitto.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin
uptime
EDGE_AGENT_FLOOD_COMMANDS=${1:-10000} EDGE_AGENT_FLOOD_SECONDS=${2:-60} \
  go test -count=1 -timeout 30m -run '^TestAgentIntegrationCommandFlood$' -v ./internal/agent/ 2>&1 |
  grep -E 'flood_test|^(---|ok|FAIL|PASS)'
