"""An agent or a service the broker will not take says why, once, at WARNING: a wrong
password, no broker listening, a TLS handshake that fails. (The broker logs
"not authorised"; until now the agent said nothing at any level.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from civic_iot.children import CliProcess
from civic_iot.services import Mosquitto, free_port
from common.mqttlink import MqttConfig, diagnose_connect
from provisioning.passwords import mosquitto_hash
from tests.edge.agent_process import start_agent, write_config
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.services


def failing_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " is failing: " in line]


def watch(process: CliProcess, seconds: float) -> list[str]:
    """The failure lines after ``seconds`` of retries (the agent retries every second)."""
    wait_for(lambda: failing_lines(process.log()), what="a failure line")
    time.sleep(seconds)
    return failing_lines(process.log())


def test_an_agent_with_a_wrong_password_says_so_once(tmp_path: Path) -> None:
    passwords = tmp_path / "passwd"
    passwords.write_text(f"home-a001-hub:{mosquitto_hash('right')}\n", encoding="utf-8")
    passwords.chmod(0o600)
    broker = Mosquitto(tmp_path / "mqtt", extra_config=f"password_file {passwords}")
    broker.config_text = lambda: Mosquitto.config_text(broker).replace(  # type: ignore[method-assign]
        "allow_anonymous true", "allow_anonymous false"
    )
    (tmp_path / "wrong").write_text("wrong\n", encoding="utf-8")
    extra = (
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, keepalive_s: 5, "
        "username: home-a001-hub, password_file: wrong}"
    )
    broker.start()
    config = write_config(tmp_path, broker.port)
    config.write_text(config.read_text().replace(
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, keepalive_s: 5}}", extra))  # fmt: skip
    agent = start_agent(tmp_path, config)
    try:
        lines = watch(agent, 4)
    finally:
        agent.terminate()
        broker.stop()
    assert len(lines) == 1, agent.log()
    assert " WARNING " in lines[0]
    assert "Not authorized" in lines[0] or "Bad user name or password" in lines[0], lines


def test_an_agent_with_no_broker_listening_says_so_once(tmp_path: Path) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, free_port()))
    try:
        lines = watch(agent, 4)
    finally:
        agent.terminate()
    assert len(lines) == 1, agent.log()
    assert " WARNING " in lines[0] and "Connection refused" in lines[0], lines


def test_a_gateway_with_no_broker_listening_says_why_once(tmp_path: Path, repo_root: Path) -> None:
    port = free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"gateway_id: gw-test\ninventory: {repo_root / 'firmware-config'}\n"
        f"mqtt: {{host: 127.0.0.1, port: {port}}}\n"
        f"influx: {{url: 'http://127.0.0.1:{free_port()}', create_databases: false}}\n"
        "http_listen: null\n",
        encoding="utf-8",
    )
    gateway = CliProcess(tmp_path / "gateway.log", "gateway", "run", "--config", str(config))
    try:
        lines = watch(gateway, 3)
    finally:
        gateway.terminate()
    assert [line for line in lines if "broker" in line] == [
        line for line in lines if f"connection refused by 127.0.0.1:{port}" in line
    ], gateway.log()
    assert len([line for line in lines if "broker" in line]) == 1, gateway.log()


def test_a_name_that_does_not_resolve_is_named() -> None:
    reason = diagnose_connect(MqttConfig(host="broker.invalid", port=8883))
    assert reason.startswith("cannot resolve 'broker.invalid'")
