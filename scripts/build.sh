#!/usr/bin/env bash
# Cross-compiles edge-agent for the Pis we ship on (and amd64 for CI boxes).
# Usage: scripts/build.sh [VERSION]    -> dist/edge-agent-<os>-<arch>[v<arm>]
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
mkdir -p dist
build() { # GOARCH GOARM suffix
  local out="dist/edge-agent-linux-$3"
  CGO_ENABLED=0 GOOS=linux GOARCH=$1 GOARM=$2 \
    go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out" ./cmd/edge-agent
  echo "$out ($(du -h "$out" | cut -f1))"
}
build arm64 "" arm64
build arm 7 armv7
build arm 6 armv6
build amd64 "" amd64
