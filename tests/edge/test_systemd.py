"""The agent talks to systemd's notify socket: READY, then WATCHDOG while it loops."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from tests.edge.agent_process import write_config
from tests.support.notify import notifications

pytestmark = pytest.mark.services


def test_ready_then_watchdog_pings_then_stopping(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config = write_config(tmp_path, mosquitto.port)
    command = [sys.executable, "-m", "civic_iot", "edge", "run", "--config", str(config)]
    notes = notifications(command, tmp_path, timeout_s=10)
    assert notes[0] == "READY=1"
    assert notes.count("WATCHDOG=1") >= 3  # every half WatchdogSec
    assert notes[-1] == "STOPPING=1"
