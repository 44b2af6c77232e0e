"""The agent in-process against a real broker: one failing collector stops nothing."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from common.mqttlink import MqttConfig
from edge.agent import Agent
from edge.collectors.base import PolledCollector
from edge.collectors.simulated.collector import SimulatedCollector
from edge.collectors.simulated.config import SimulatedConfig
from edge.config import AgentConfig
from tests.support.mqtt import Recorder, wait_for
from wire import Reading, decode_message, topics

pytestmark = pytest.mark.services
DEVICE = "home-a001-hub"


class BrokenSensor(PolledCollector):
    """Fails for its first calls, then recovers: a sensor unplugged and plugged back."""

    name = "broken"
    interval_s = 0.1

    def __init__(self, failures: int) -> None:
        self.calls = 0
        self.failures = failures

    def collect(self, now_ms: int) -> list[Reading]:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("I2C bus read failed")
        return [Reading("climate.temperature", 18.5, "Cel", sensor="broken")]


def test_a_failing_collector_is_logged_once_and_others_keep_publishing(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    config = AgentConfig(
        device_id=DEVICE,
        mqtt=MqttConfig(host=mosquitto.host, port=mosquitto.port),
        state_dir=str(tmp_path / "state"),
    )
    simulated = SimulatedCollector(
        SimulatedConfig(type="simulated", interval_s=0.1, kinds=["climate"]), DEVICE
    )
    broken = BrokenSensor(failures=8)
    recorder = Recorder(mosquitto, topics.telemetry(DEVICE))
    agent = Agent(config, [broken, simulated])
    stop = threading.Event()
    caplog.set_level(logging.WARNING, logger="edge.agent")
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:

        def sensors() -> set[str]:
            return {r.sensor for _, p, _ in recorder.snapshot() for r in decode_message(p).readings}

        wait_for(lambda: "living-room" in sensors(), what="simulated readings")
        wait_for(lambda: "broken" in sensors(), what="the broken sensor to recover")
    finally:
        stop.set()
        agent.wake()
        thread.join(10)
        recorder.close()
    failing = [r for r in caplog.records if "is failing" in r.getMessage()]
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(failing) == 1
    assert "I2C bus read failed" in failing[0].getMessage()
    assert len(recovered) == 1
    assert broken.calls > 8
