"""`civic-iot backup` and `restore`: the servers' state, taken while they ran, brought
back onto empty state directories: the same devices, the same open alert, the same
keys; a backup that was changed, or a directory that is not empty, is refused."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto, free_port
from common.city.inventory import load_inventory
from common.mqttlink import MqttConfig
from gateway import registry
from provisioning.provision import Endpoint, Provisioner
from tests.alerts.live import press_call_button, start_service
from tests.e2e.stack import gateway_config, start_gateway
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.services


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civic_iot", *args], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def servers(root: Path, broker: Mosquitto, repo_root: Path) -> tuple[Path, Path]:
    """The gateway's and the alerts service's configs, with their state under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    influx = f"  url: http://127.0.0.1:{free_port()}"  # away: the registry still fills
    gateway = gateway_config(root, broker, repo_root / "firmware-config", influx)
    alerts = write_local_config(root / "alerts", "alerts-1",
                                MqttConfig(host=broker.host, port=broker.port))  # fmt: skip
    return gateway, alerts


def test_a_backup_restores_devices_open_alerts_and_keys(
    tmp_path: Path, mosquitto: Mosquitto, repo_root: Path
) -> None:
    gateway_cfg, alerts_cfg = servers(tmp_path / "before", mosquitto, repo_root)
    provision = tmp_path / "before" / "provision"
    Provisioner(load_inventory(repo_root / "firmware-config"), provision,
                Endpoint("mqtt.city.example", 8883, 1883), broker_user="root").provision()  # fmt: skip
    gateway = start_gateway(tmp_path / "before", mosquitto, gateway_cfg)
    alerts = start_service(tmp_path / "before", mosquitto, alerts_cfg)
    press_call_button(mosquitto)
    wait_for(lambda: "firing" in cli("alerts", "list", "--config", str(alerts_cfg)).stdout,
             what="the open alert")  # fmt: skip
    # The gateway saves what it saw of devices every few seconds: the backup has that.
    state = tmp_path / "before" / "gateway-state" / "gw-test" / "registry.sqlite3"
    wait_for(lambda: any(r.last_seen_ms for r in registry.read(state)), what="a saved registry")
    archive = tmp_path / "city-backup.tar.gz"
    taken = cli("backup", "--out", str(archive), "--gateway-config", str(gateway_cfg),
                "--alerts-config", str(alerts_cfg), "--provision-dir", str(provision))  # fmt: skip
    assert gateway.terminate() == 0 and alerts.terminate() == 0  # taken while they ran
    assert taken.returncode == 0, taken.stderr
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the CA's key

    gateway_new, alerts_new = servers(tmp_path / "after", mosquitto, repo_root)
    provision_new = tmp_path / "after" / "provision"
    where = ["--gateway-config", str(gateway_new), "--alerts-config", str(alerts_new),
             "--provision-dir", str(provision_new)]  # fmt: skip
    restored = cli("restore", str(archive), *where)
    assert restored.returncode == 0, restored.stderr
    before = registry.read(tmp_path / "before" / "gateway-state" / "gw-test" / "registry.sqlite3")
    after = registry.read(tmp_path / "after" / "gateway-state" / "gw-test" / "registry.sqlite3")
    seen = {r.device_id: r.last_seen_ms for r in after if r.last_seen_ms}
    assert seen == {r.device_id: r.last_seen_ms for r in before if r.last_seen_ms}
    assert "home-a001-hub" in seen
    listed = cli("alerts", "list", "--config", str(alerts_new)).stdout
    assert "firing" in listed and "home-a001" in listed
    for key in ("pki/ca.key", "release/release-key.pem"):
        assert (provision_new / key).read_bytes() == (provision / key).read_bytes()
        assert stat.S_IMODE((provision_new / key).stat().st_mode) == 0o600

    again = cli("restore", str(archive), *where)
    assert again.returncode == 1 and "is not empty" in again.stderr
    changed = tmp_path / "changed.tar.gz"
    with tarfile.open(archive) as original, tarfile.open(changed, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith("pki/ca.key"):
                data = data.replace(b"A", b"B", 1)
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    refused = cli("restore", str(changed), "--provision-dir", str(tmp_path / "elsewhere"))
    assert refused.returncode == 1 and "pki/ca.key does not match" in refused.stderr
    assert not (tmp_path / "elsewhere").exists()
