"""`civic-iot fleet` as IT uses it, against a real agent and broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from tests.edge.agent_process import DEVICE, start_agent, write_config
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.services


def fleet(broker: Mosquitto, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "civic_iot", "fleet", "--host", "127.0.0.1",
               "--port", str(broker.port), *args]  # fmt: skip
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
    assert refused.returncode == 2  # checked here as the agent would: nothing is sent
    assert f"{broken}:2: collectors[0].kinds[0]" in refused.stderr, refused.stderr
    assert "desired version 1 applied" in fleet(mosquitto, "show", DEVICE).stdout

    answer = fleet(mosquitto, "command", DEVICE, "get-config")
    assert json.loads(answer.stdout)["version"] == 1
    table = fleet(mosquitto, "show", "--group", "kind:home")
    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line for line in table.stdout.splitlines()[1:-1]}
    assert set(rows) == {"home-a001-hub", "home-a002-hub", "home-a003-hub", "home-a004-hub"}
    assert "online" in rows[DEVICE] and "v1 applied" in rows[DEVICE]
    assert "never seen" in rows["home-a002-hub"] and "1 of 4 online" in table.stdout
    grouped = fleet(mosquitto, "push-config", "--group", "site:home-a001", str(desired),
                    "--timeout", "15")  # fmt: skip
    assert grouped.returncode == 0, grouped.stdout + grouped.stderr
    assert f"{DEVICE} applied desired version 2" in grouped.stdout
    pinged = fleet(mosquitto, "command", "--group", "district:潮見", "ping", "--timeout", "2")
    assert pinged.returncode == 1  # home-a002-hub is not running
    assert f"{DEVICE}: " in pinged.stdout and "1 of 2 devices answered" in pinged.stdout
    assert "home-a002-hub did not answer 'ping' within 2s" in pinged.stderr
    nobody = fleet(mosquitto, "show", "--group", "district:nowhere")
    assert nobody.returncode == 1 and "no device in firmware-config is in it" in nobody.stderr
    logs = fleet(mosquitto, "logs", DEVICE, "--since-min", "5")
    assert logs.returncode == 0, logs.stderr
    assert f"connected to 127.0.0.1:{mosquitto.port}" in logs.stdout
    assert "applied desired config version 1" in logs.stdout
    diag = fleet(mosquitto, "diag", DEVICE)
    assert diag.returncode == 0, diag.stderr
    assert "agent: civic-iot-edge/" in diag.stdout and "connected: true" in diag.stdout
    assert "depth:" in diag.stdout and "running:" in diag.stdout
    unknown = fleet(mosquitto, "command", DEVICE, "reboot-city")
    assert unknown.returncode == 1 and "unknown command 'reboot-city'" in unknown.stderr
    agent.terminate()


def test_a_device_that_never_answers(mosquitto: Mosquitto) -> None:
    shown = fleet(mosquitto, "show", "ghost-1").stdout
    assert "never seen" in shown
    silent = fleet(mosquitto, "command", "ghost-1", "ping", "--timeout", "1")
    assert silent.returncode == 1
    assert "ghost-1 did not answer 'ping' within 1s" in silent.stderr


def test_without_a_broker_account_fleet_says_so_and_stops(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "civic_iot", "fleet", "show", "home-a001-hub"]
    env = {k: v for k, v in os.environ.items() if k != "CIVIC_IOT_MQTT"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                            env=env)  # fmt: skip
    assert result.returncode == 2
    assert "no broker account given: pass --mqtt" in result.stderr
    assert "never seen" not in result.stdout  # it did not ask a broker it guessed
