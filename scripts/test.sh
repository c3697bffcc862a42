#!/usr/bin/env bash
# The project's test command (README): formatting, vet, the Pi builds and
# every test with the race detector, integration tests included (they start
# their own Mosquitto). Pass -short to skip the integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...
for target in arm64: arm:6 arm:7; do
  CGO_ENABLED=0 GOOS=linux GOARCH=${target%%:*} GOARM=${target#*:} go build -o /dev/null ./cmd/edge-agent
done
go test -race -count=1 -timeout 15m "$@" ./...
