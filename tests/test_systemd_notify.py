"""The gateway and the alerts service talk to systemd's notify socket as their units
(Type=notify, WatchdogSec) expect: READY once serving, WATCHDOG=1 from their loops,
STOPPING on the way out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto, free_port
from common.mqttlink import MqttConfig
from tests.e2e.stack import gateway_config

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
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(15)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    command = [sys.executable, "-m", "civic_iot", role, "run", "--config",
               str(config_of(role, tmp_path, mosquitto, repo_root))]  # fmt: skip
    service = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    notes: list[str] = []
    try:
        deadline = time.monotonic() + 15
        while notes.count("WATCHDOG=1") < 3 and time.monotonic() < deadline:
            notes.append(listener.recv(256).decode())
    finally:
        service.terminate()
        service.wait(30)
    notes.append(listener.recv(256).decode())
    listener.close()
    assert notes[0] == "READY=1"
    assert notes.count("WATCHDOG=1") >= 3  # at least every half WatchdogSec
    assert notes[-1] == "STOPPING=1"
