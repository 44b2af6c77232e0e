"""A broker that crashes loses what it acknowledged but had not delivered yet; the
gateway sees the gap in the agent's sequence and asks for those messages again."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civic_iot.children import CliProcess
from civic_iot.services import InfluxDB, Mosquitto
from tests.e2e.stack import HOME_DEVICE, agent_config, expected_values, run_gateway
from tests.support.influx import influxql
from tests.support.mqtt import settle, wait_for

pytestmark = pytest.mark.services


def registry_sequence(config: Path) -> dict[str, object]:
    devices = subprocess.run(
        [sys.executable, "-m", "civic_iot", "devices", "--config", str(config), "--json"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    record = next(r for r in json.loads(devices) if r["device_id"] == HOME_DEVICE)
    sequence: dict[str, object] = record["sequence"]
    return sequence


def stored_values(server: InfluxDB) -> set[tuple[str, str, str, int, object]]:
    """(measurement, field, sensor, time ms, value) of the device's points."""
    stored = set()
    query = f"SELECT * FROM /.*/ WHERE device = '{HOME_DEVICE}'"  # noqa: S608 - a constant
    for database in ("civic_watch", "civic_ops"):
        for row in influxql(server, database, query):
            for key, value in row.items():
                if key in {"time", "device", "site", "sensor", "_measurement"} or value is None:
                    continue
                stored.add((row["_measurement"], key, row.get("sensor") or "", row["time"], value))
    return stored


def acknowledged_payloads(state: Path) -> list[bytes]:
    """What the broker acknowledged to the agent (its outbox keeps it for resends)."""
    with sqlite3.connect(state / "outbox.sqlite3") as db:
        return [bytes(row[0]) for row in db.execute("SELECT payload FROM sent")]


def test_messages_a_crashed_broker_lost_are_sent_again_and_stored(
    tmp_path: Path, influxdb: InfluxDB, repo_root: Path
) -> None:
    # Never saved to disk in this test: a SIGKILL loses every queued message.
    broker = Mosquitto(tmp_path / "mqtt", extra_config="autosave_interval 3600")
    broker.start()
    influx = f"  url: {influxdb.url}"
    settings = {
        "extra": "http_listen: null\noffline_after_s: 2\nops_interval_s: 3600\nresend: {after_s: 1}\n"
    }
    gateway = run_gateway(tmp_path, broker, repo_root, influx, **settings)
    agent = CliProcess(tmp_path / "agent.log", "edge", "run", "--config",
                       str(agent_config(tmp_path, broker)))  # fmt: skip
    config = tmp_path / "gw-test.yaml"
    try:
        wait_for(lambda: stored_values(influxdb), what="the first readings")
        assert gateway.terminate() == 0, gateway.log()
        time.sleep(3)  # the broker acknowledges the agent's messages and queues them
        broker.kill()
        broker.start()
        gateway = run_gateway(tmp_path, broker, repo_root, influx, **settings)
        # The gap is open for about a second (the resend after 1 s fills it) and the
        # registry is saved every 5 s: what shows that it was seen is the agent's answer.
        wait_for(lambda: "the gateway missed" in agent.log(), timeout_s=60,
                 what="the gateway asking the agent for the gap the crash left")  # fmt: skip
        settle(lambda: not registry_sequence(config)["missing"], timeout_s=60)
    finally:
        assert agent.terminate() == 0, agent.log()
        gateway.terminate()
        broker.stop()
    assert registry_sequence(config)["missing"] == []
    expected = expected_values(acknowledged_payloads(tmp_path / f"state-{HOME_DEVICE}"))
    settle(lambda: stored_values(influxdb) >= expected)
    assert expected - stored_values(influxdb) == set()
