"""`civic-iot fleet` as IT uses it, against a real agent and broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from tests.edge.agent_process import DEVICE, start_agent, write_config
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.services


def fleet(broker: Mosquitto, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "civic_iot", "fleet", "--port", str(broker.port), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_show_push_and_command(tmp_path: Path, mosquitto: Mosquitto) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_for(lambda: "status   online" in fleet(mosquitto, "show", DEVICE).stdout, what="online")
    shown = fleet(mosquitto, "show", DEVICE).stdout
    assert "no desired config (runs its config file)" in shown
    assert "agent    up " in shown and "outbox " in shown

    desired = tmp_path / "doors.yaml"
    desired.write_text("collectors:\n  - {type: simulated, kinds: [door]}\n", encoding="utf-8")
    pushed = fleet(mosquitto, "push-config", DEVICE, str(desired), "--timeout", "15")
    assert pushed.returncode == 0, pushed.stderr
    assert f"{DEVICE} applied desired version 1" in pushed.stdout
    assert (
        "desired version 1 applied (running version 1)" in fleet(mosquitto, "show", DEVICE).stdout
    )

    broken = tmp_path / "broken.yaml"
    broken.write_text("collectors:\n  - {type: simulated, kinds: [radar]}\n", encoding="utf-8")
    refused = fleet(mosquitto, "push-config", DEVICE, str(broken), "--timeout", "15")
    assert refused.returncode == 1
    assert "rejected desired version 2" in refused.stdout
    assert "it keeps running version 1" in refused.stdout
    assert "desired version 2 REJECTED" in fleet(mosquitto, "show", DEVICE).stdout

    answer = fleet(mosquitto, "command", DEVICE, "get-config")
    assert json.loads(answer.stdout)["version"] == 1
    unknown = fleet(mosquitto, "command", DEVICE, "reboot-city")
    assert unknown.returncode == 1 and "unknown command 'reboot-city'" in unknown.stderr
    agent.terminate()


def test_a_device_that_never_answers(mosquitto: Mosquitto) -> None:
    shown = fleet(mosquitto, "show", "ghost-1").stdout
    assert "never seen" in shown
    silent = fleet(mosquitto, "command", "ghost-1", "ping", "--timeout", "1")
    assert silent.returncode == 1
    assert "ghost-1 did not answer 'ping' within 1s" in silent.stderr
