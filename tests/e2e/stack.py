"""Write agent and gateway configs for a test, and compute what should land where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from civic_iot.children import CliProcess
from civic_iot.services import Mosquitto
from civic_iot.watch import wait_online
from common.mqttlink import MqttConfig
from tests.support.mqtt import Recorder, wait_for
from wire import Message, decode_message, topics

HOME_DEVICE = "home-a001-hub"
HOME_SITE = "home-a001"


def agent_config(tmp: Path, broker: Mosquitto, device_id: str = HOME_DEVICE) -> Path:
    path = tmp / f"{device_id}.yaml"
    path.write_text(
        f"""device_id: {device_id}
state_dir: state-{device_id}
mqtt:
  host: {broker.host}
  port: {broker.port}
  keepalive_s: 5
collectors:
  - type: system
    interval_s: 0.5
  - type: simulated
    interval_s: 0.25
    kinds: [climate, door, motion]
    event_rate: 1.0
""",
        encoding="utf-8",
    )
    return path


def gateway_config(
    tmp: Path,
    broker: Mosquitto,
    inventory: Path,
    influx: str,
    gateway_id: str = "gw-test",
    batch: str = "{max_points: 500, max_delay_s: 0.2}",
    extra: str = "http_listen: null\n",
) -> Path:
    path = tmp / f"{gateway_id}.yaml"
    path.write_text(
        f"""gateway_id: {gateway_id}
inventory: {inventory}
mqtt: {{host: {broker.host}, port: {broker.port}}}
influx:
{influx}
batch: {batch}
{extra}""",
        encoding="utf-8",
    )
    return path


def expected_values(payloads: list[bytes]) -> set[tuple[str, str, str, int, Any]]:
    """(measurement, field, sensor, time ms, value) for every reading published."""
    expected = set()
    for payload in payloads:
        message: Message = decode_message(payload)
        for reading in message.readings:
            measurement, field = reading.quantity.split(".", 1)
            ts = reading.ts if reading.ts is not None else message.ts
            expected.add((measurement, field, reading.sensor, ts, reading.value))
    return expected


def start_gateway(
    tmp: Path, broker: Mosquitto, config: Path, gateway_id: str = "gw-test"
) -> CliProcess:
    """Start a gateway and wait until it has subscribed (it says online after that)."""
    gateway = CliProcess(tmp / f"{gateway_id}.log", "gateway", "run", "--config", str(config))
    mqtt_config = MqttConfig(host=broker.host, port=broker.port)
    if not wait_online(mqtt_config, topics.service_status(gateway_id)):
        gateway.kill()
        raise AssertionError(f"gateway {gateway_id} never came online:\n{gateway.log()}")
    return gateway


def run_gateway(
    tmp: Path, broker: Mosquitto, repo_root: Path, influx: str, **settings: str
) -> CliProcess:
    """A gateway process over the example city, writing with the given influx settings."""
    inventory = repo_root / "firmware-config"
    return start_gateway(tmp, broker, gateway_config(tmp, broker, inventory, influx, **settings))


def run_agent_until(tmp: Path, broker: Mosquitto, messages: int) -> list[bytes]:
    """Run an agent until a recorder has seen ``messages`` reading messages; stop it."""
    recorder = Recorder(
        broker,
        topics.telemetry(HOME_DEVICE),
        topics.event(HOME_DEVICE),
        topics.health(HOME_DEVICE),
    )
    agent = CliProcess(tmp / "agent.log", "edge", "run", "--config", str(agent_config(tmp, broker)))
    try:
        wait_for(lambda: len(recorder.snapshot()) >= messages, what=f"{messages} messages")
    finally:
        assert agent.terminate() == 0, agent.log()
        recorder.close()
    return [payload for _, payload, _ in recorder.snapshot()]
