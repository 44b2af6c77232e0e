"""The agent talks to systemd's notify socket: READY, then WATCHDOG while it loops."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from tests.edge.agent_process import write_config

pytestmark = pytest.mark.services


def test_ready_then_watchdog_pings_then_stopping(tmp_path: Path, mosquitto: Mosquitto) -> None:
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(10)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    config = write_config(tmp_path, mosquitto.port)
    agent = subprocess.Popen(
        [sys.executable, "-m", "civic_iot", "edge", "run", "--config", str(config)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    notes: list[str] = []
    try:
        deadline = time.monotonic() + 10
        while notes.count("WATCHDOG=1") < 3 and time.monotonic() < deadline:
            notes.append(listener.recv(256).decode())
    finally:
        agent.terminate()
        agent.wait(20)
    notes.append(listener.recv(256).decode())
    listener.close()
    assert notes[0] == "READY=1"
    assert notes.count("WATCHDOG=1") >= 3  # every half WatchdogSec
    assert notes[-1] == "STOPPING=1"
