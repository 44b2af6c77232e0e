#!/usr/bin/env bash
# First boot of ${device_id} on Raspberry Pi OS. Rendered by `civic-iot provision`.
# Run as root from the unpacked bundle (`sudo ./firstboot.sh`), or from Raspberry Pi
# Imager's first-run script. Safe to run again: it installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

CONFIG_DIR=${config_dir}
INSTALL_DIR=${install_dir}

id civic-iot >/dev/null 2>&1 || useradd --system --home-dir /var/lib/civic-iot --shell /usr/sbin/nologin civic-iot

install -d -m 0750 -o root -g civic-iot "$CONFIG_DIR"
install -m 0640 -o root -g civic-iot agent.yaml ca.crt client.crt "$CONFIG_DIR"/
install -m 0640 -o root -g civic-iot mqtt-password client.key "$CONFIG_DIR"/

if [ ! -x "$INSTALL_DIR/venv/bin/civic-iot" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  python3 -m venv "$INSTALL_DIR/venv"
  "$INSTALL_DIR/venv/bin/pip" install -q '${agent_package}'
fi
"$INSTALL_DIR/venv/bin/civic-iot" edge check-config "$CONFIG_DIR/agent.yaml"

install -m 0644 civic-iot-agent.service /etc/systemd/system/civic-iot-agent.service
systemctl daemon-reload
systemctl enable --now civic-iot-agent.service
echo "civic-iot agent ${device_id} installed and started"
