"""Two gateway workers share the stream through an MQTT v5 shared subscription."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civic_iot.services import InfluxDB, Mosquitto
from tests.e2e.stack import gateway_config, start_gateway
from tests.support.influx import influxql
from tests.support.mqtt import publish_many, wait_for
from wire import Message, Reading, encode, now_ms, topics

pytestmark = pytest.mark.services
HOMES = ["home-a001-hub", "home-a002-hub", "home-a003-hub", "home-a004-hub"]


def batch(first_seq: int, count: int, base_ms: int) -> list[tuple[str, bytes]]:
    """Each message one reading of a distinct point: (device, time) never repeats."""
    messages = []
    for seq in range(first_seq, first_seq + count):
        for device in HOMES:
            reading = Reading("climate.temperature", seq / 10, "Cel", sensor="kitchen")
            payload = Message(schema=1, seq=seq, ts=base_ms + seq, readings=[reading])
            messages.append((topics.telemetry(device), encode(payload)))
    return messages


def stored(influxdb: InfluxDB) -> int:
    rows = influxql(influxdb, "civic_watch", "SELECT count(temperature) FROM climate")
    return int(rows[0]["count"]) if rows else 0


def test_two_workers_split_the_stream_and_lose_nothing_when_one_is_killed(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    inventory = repo_root / "firmware-config"
    shared = "http_listen: null\nshared_group: ingest\n"
    configs = {
        worker: gateway_config(
            tmp_path, mosquitto, inventory, f"  url: {influxdb.url}", worker, extra=shared
        )
        for worker in ("gw-a", "gw-b")
    }
    workers = {w: start_gateway(tmp_path, mosquitto, c, w) for w, c in configs.items()}
    base = now_ms() - 3_600_000
    publish_many(mosquitto, batch(0, 500, base))
    wait_for(lambda: stored(influxdb) == 2000, what="the first 2000 readings")
    workers["gw-b"].kill()  # SIGKILL, whatever it holds unacknowledged
    publish_many(mosquitto, batch(500, 500, base))
    workers["gw-b"] = start_gateway(tmp_path, mosquitto, configs["gw-b"], "gw-b")
    wait_for(lambda: stored(influxdb) == 4000, what="all 4000 readings")
    for worker in workers.values():
        assert worker.terminate() == 0
    written = {w: re.findall(r"'points_written': (\d+)", p.log()) for w, p in workers.items()}
    assert all(int(counts[-1]) > 0 for counts in written.values()), written  # both took a share
    assert stored(influxdb) == 4000
