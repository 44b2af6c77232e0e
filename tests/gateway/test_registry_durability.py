"""The registry the gateway saves says which sequence numbers arrived. It must never say
so before their points are durable: a power cut that takes the gateway and the broker
together loses what was in flight from both, and only a gap in the saved sequence makes
the gateway ask the device for it again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from gateway import registry
from tests.e2e.stack import run_gateway
from tests.support.influx_writes import InfluxWrites, serving
from tests.support.mqtt import publish_many, wait_for
from wire import Message, Reading, encode, now_ms, topics

pytestmark = pytest.mark.services
HOME = "home-a001-hub"


@pytest.fixture
def held_influx() -> Iterator[InfluxWrites]:
    with serving(InfluxWrites(held=True)) as server:
        yield server


def saved_highest(state: Path) -> int:
    """The highest sequence number of the home's hub in the registry file."""
    records = registry.read(state / "registry.sqlite3")
    return next(r.sequence.highest for r in records if r.device_id == HOME)


def test_the_saved_registry_never_says_a_message_arrived_before_its_points_are_durable(
    tmp_path: Path, mosquitto: Mosquitto, held_influx: InfluxWrites, repo_root: Path
) -> None:
    influx = f"  url: {held_influx.url}\n  create_databases: false\n  timeout_s: 60"
    gateway = run_gateway(tmp_path, mosquitto, repo_root, influx,
                          extra="http_listen: null\nregistry_save_s: 0.2\n")  # fmt: skip
    state = tmp_path / "gateway-state" / "gw-test"
    reading = Reading("climate.temperature", 20.5, "Cel", sensor="kitchen")
    messages = [encode(Message(schema=1, seq=seq, ts=now_ms(), readings=[reading]))
                for seq in range(1, 6)]  # fmt: skip
    try:
        publish_many(mosquitto, [(topics.telemetry(HOME), m) for m in messages])
        wait_for(held_influx.arrived.is_set, what="the readings' write to InfluxDB")
        time.sleep(2)  # ten save intervals pass while InfluxDB holds the points
        assert saved_highest(state) < 1, "saved as received while not durable"
        held_influx.release.set()
        wait_for(lambda: saved_highest(state) == 5, what="the registry saved once durable")
    finally:
        held_influx.release.set()
        assert gateway.terminate() == 0, gateway.log()
