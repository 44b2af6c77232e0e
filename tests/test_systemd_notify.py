"""The gateway and the alerts service talk to systemd's notify socket as their units
(Type=notify, WatchdogSec) expect: READY once serving, WATCHDOG=1 from their loops,
STOPPING on the way out."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto, free_port
from common.mqttlink import MqttConfig
from tests.e2e.stack import gateway_config
from tests.support.notify import notifications

pytestmark = pytest.mark.services


def config_of(role: str, tmp_path: Path, broker: Mosquitto, repo_root: Path) -> Path:
    if role == "gateway":  # InfluxDB away: it spools, and still serves and says so
        return gateway_config(tmp_path, broker, repo_root / "firmware-config",
                              f"  url: http://127.0.0.1:{free_port()}")  # fmt: skip
    return write_local_config(tmp_path, "alerts-1", MqttConfig(host=broker.host, port=broker.port))


@pytest.mark.parametrize("role", ["gateway", "alerts"])
def test_ready_then_watchdog_then_stopping(
    role: str, tmp_path: Path, mosquitto: Mosquitto, repo_root: Path
) -> None:
    command = [sys.executable, "-m", "civic_iot", role, "run", "--config",
               str(config_of(role, tmp_path, mosquitto, repo_root))]  # fmt: skip
    notes = notifications(command, tmp_path)
    assert notes[0] == "READY=1"
    assert notes.count("WATCHDOG=1") >= 3  # at least every half WatchdogSec
    assert notes[-1] == "STOPPING=1"
