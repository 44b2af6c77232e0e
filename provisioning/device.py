"""A device's side of provisioning: its agent config, systemd unit, first-boot script,
and the bundle that carries them (with its secrets) to the Raspberry Pi."""

from __future__ import annotations

import gzip
import io
import json
import re
import string
import tarfile
from pathlib import Path

from common.city.inventory import DevicePlacement

CONFIG_DIR = "/etc/civic-iot"
INSTALL_DIR = "/opt/civic-iot"
# Everything the Pi needs, in the order the first-boot script installs it.
BUNDLE_FILES = (
    "agent.yaml",
    "ca.crt",
    "client.crt",
    "client.key",
    "mqtt-password",
    "release-key.pub",
    "release.env",
    "install-release.py",
    "civic-iot-agent.service",
    "civic-iot-update.path",
    "civic-iot-update.service",
    "firstboot.sh",
)
SECRET_FILES = frozenset({"client.key", "mqtt-password"})


def agent_config(placement: DevicePlacement, host: str, port: int) -> str:
    """The agent's YAML. File paths are relative to the config file, so the same text
    works in /etc/civic-iot on the Pi and in the provisioning state directory."""
    device_id = placement.device.id
    config = {
        "device_id": device_id,
        "mqtt": {
            "host": host,
            "port": port,
            "username": device_id,
            "password_file": "mqtt-password",
            "tls": {"ca_file": "ca.crt", "cert_file": "client.crt", "key_file": "client.key"},
        },
        "collectors": placement.collectors(),
    }
    header = f"# Agent config for {device_id} at {placement.site.id}, by `civic-iot provision`.\n"
    # JSON is YAML; it keeps the rendering free of formatting choices.
    return header + json.dumps(config, indent=2, ensure_ascii=False) + "\n"


class _Template(string.Template):
    """Only lower-case ``${name}`` is ours; shell's ``$VAR`` and ``$(...)`` pass through."""

    idpattern = r"(?!)"
    braceidpattern = r"[a-z_]+"


_LEFT = re.compile(r"\$\{[a-z_]+\}")


def render_template(templates: Path, name: str, **values: str) -> str:
    text = (templates / name).read_text(encoding="utf-8")
    rendered = _Template(text).safe_substitute(
        config_dir=CONFIG_DIR, install_dir=INSTALL_DIR, **values
    )
    left = _LEFT.search(rendered)
    if left:
        raise ValueError(f"{templates / name}: no value for placeholder {left.group()}")
    return rendered


def bundle(directory: Path) -> bytes:
    """A .tar.gz of the device's files, byte-identical when the files are unchanged."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in BUNDLE_FILES:
            data = (directory / name).read_bytes()
            info = tarfile.TarInfo(f"{directory.name}/{name}")
            info.size = len(data)
            info.mode = (
                0o600
                if name in SECRET_FILES
                else (0o755 if name.endswith((".sh", ".py")) else 0o644)
            )
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)
