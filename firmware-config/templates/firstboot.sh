#!/usr/bin/env bash
# First boot of ${device_id} on Raspberry Pi OS. Rendered by `civic-iot provision`.
# Run as root from the unpacked bundle (`sudo ./firstboot.sh`), or from Raspberry Pi
# Imager's first-run script. Safe to run again: it installs what is missing, and a
# newer release, if there is one, replaces the running one (the older stays for a
# rollback).
#
# The agent comes from a release the city built and signed (`civic-iot release build`):
# the one this bundle carries in ./release (no network needed), else the newest at
# RELEASE_URL (release.env). Nothing is installed unless the city's key signed it.
set -euo pipefail
cd "$(dirname "$0")"

CONFIG_DIR=${config_dir}
INSTALL_DIR=${install_dir}
source ./release.env

id civic-iot >/dev/null 2>&1 || useradd --system --home-dir /var/lib/civic-iot --shell /usr/sbin/nologin civic-iot

install -d -m 0750 -o root -g civic-iot "$CONFIG_DIR"
install -m 0640 -o root -g civic-iot agent.yaml ca.crt client.crt release-key.pub "$CONFIG_DIR"/
install -m 0640 -o root -g civic-iot mqtt-password client.key "$CONFIG_DIR"/
install -m 0644 release.env "$CONFIG_DIR"/

if ! python3 -c 'import ensurepip' 2>/dev/null || ! command -v openssl >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv openssl
fi
if [ -d release ]; then
  SOURCE=$PWD/release
elif [ -n "$RELEASE_URL" ]; then
  SOURCE=$RELEASE_URL
else
  echo "firstboot: no release: put the city's release directory next to this script as ./release, or set RELEASE_URL in release.env" >&2
  exit 1
fi
install -d -m 0755 "$INSTALL_DIR"
# Kept beside the releases: over-the-air updates run it (civic-iot-update.service).
install -m 0755 install-release.py "$INSTALL_DIR"/install-release.py
python3 install-release.py --source "$SOURCE" --key release-key.pub --prefix "$INSTALL_DIR"
"$INSTALL_DIR/current/bin/civic-iot" edge check-config "$CONFIG_DIR/agent.yaml"

for unit in civic-iot-agent.service civic-iot-update.service civic-iot-update.path; do
  install -m 0644 "$unit" /etc/systemd/system/"$unit"
done
systemctl enable civic-iot-agent.service civic-iot-update.path
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl start civic-iot-update.path
  systemctl restart civic-iot-agent.service
fi
echo "civic-iot agent ${device_id} installed: $(readlink "$INSTALL_DIR/current")"
