#!/usr/bin/env bash
# Installs edge-agent on a Raspberry Pi (run as root):
#   scripts/install.sh dist/edge-agent-linux-arm64 [config.yaml]
# Installs the binary, a dedicated user in the gpio/i2c/spi groups, the
# config and state directories and the systemd unit, then starts it when a
# config is in place.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: install.sh BINARY [CONFIG]}
cfg=${2:-}
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }

install -m 0755 "$bin" /usr/local/bin/edge-agent
for g in gpio i2c spi; do getent group "$g" >/dev/null || groupadd --system "$g"; done
if ! id edge-agent >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/edge-agent --shell /usr/sbin/nologin \
    --groups gpio,i2c,spi edge-agent
fi
install -d -m 0750 -o edge-agent -g edge-agent /var/lib/edge-agent
install -d -m 0750 -o root -g edge-agent /etc/edge-agent
if [ -n "$cfg" ]; then
  install -m 0640 -o root -g edge-agent "$cfg" /etc/edge-agent/config.yaml
elif [ ! -f /etc/edge-agent/config.yaml ]; then
  install -m 0640 -o root -g edge-agent "$here/configs/store.example.yaml" /etc/edge-agent/config.yaml
  echo "installed the example config: edit /etc/edge-agent/config.yaml, then: systemctl start edge-agent"
fi
install -m 0644 "$here/configs/edge-agent.service" /etc/systemd/system/edge-agent.service
systemctl daemon-reload
systemctl enable edge-agent
if /usr/local/bin/edge-agent config validate /etc/edge-agent/config.yaml; then
  systemctl restart edge-agent
  systemctl --no-pager status edge-agent || true
else
  echo "config not valid yet: fix it, then: systemctl start edge-agent" >&2
fi
