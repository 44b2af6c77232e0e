"""An agent process and a gateway process over a real broker, into real stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic_iot.children import CliProcess
from civic_iot.services import InfluxDB, Mosquitto, VictoriaMetrics
from tests.e2e.stack import (
    HOME_DEVICE,
    HOME_SITE,
    agent_config,
    expected_values,
    run_agent_until,
    run_gateway,
)
from tests.support.influx import influxql, vm_export
from tests.support.mqtt import Recorder, settle, wait_for
from wire import CATALOGUE, Status, decode, topics

pytestmark = pytest.mark.services
WATCH_DB, OPS_DB = "civic_watch", "civic_ops"


def stored_influx_values(server: InfluxDB) -> set[tuple[str, str, str, int, object]]:
    stored = set()
    for database in (WATCH_DB, OPS_DB):
        for row in influxql(server, database, "SELECT * FROM /.*/"):
            assert row["device"] == HOME_DEVICE
            assert row["site"] == HOME_SITE
            for key, value in row.items():
                if key in {"time", "device", "site", "sensor", "_measurement"} or value is None:
                    continue
                stored.add((row["_measurement"], key, row.get("sensor") or "", row["time"], value))
    return stored


def test_readings_land_in_influxdb_v1_with_tags_fields_and_times(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  dialect: v1\n  url: {influxdb.url}")
    try:
        published = run_agent_until(tmp_path, mosquitto, messages=12)
        expected = expected_values(published)
        assert {m for m, *_ in expected} >= {"climate", "door", "motion", "system", "battery"}
        settle(lambda: stored_influx_values(influxdb) >= expected)
        assert stored_influx_values(influxdb) == expected
    finally:
        assert gateway.terminate() == 0, gateway.log()


def test_zones_keep_watch_over_and_operations_data_apart(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    try:
        run_agent_until(tmp_path, mosquitto, messages=6)
        wait_for(lambda: influxql(influxdb, OPS_DB, "SHOW MEASUREMENTS"), what="system data")
        wait_for(lambda: influxql(influxdb, WATCH_DB, "SHOW MEASUREMENTS"), what="home data")
    finally:
        gateway.terminate()
    ops = {row["name"] for row in influxql(influxdb, OPS_DB, "SHOW MEASUREMENTS")}
    watch = {row["name"] for row in influxql(influxdb, WATCH_DB, "SHOW MEASUREMENTS")}
    assert ops == {"system", "agent", "ingest", "gateway"}  # the last two: the gateway's own
    assert not ops & watch
    assert {"climate", "door", "motion"} <= watch
    home_quantities = {q.measurement for q in CATALOGUE.values() if q.zone is None}
    assert watch <= home_quantities


def test_same_readings_land_in_victoriametrics_through_the_v2_api(
    tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics, repo_root: Path
) -> None:
    influx = f"  dialect: v2\n  url: {victoria.url}\n  org: civic"
    gateway = run_gateway(tmp_path, mosquitto, repo_root, influx)
    try:
        published = run_agent_until(tmp_path, mosquitto, messages=12)
    finally:
        assert gateway.terminate() == 0, gateway.log()
    # VictoriaMetrics names a series measurement_field and stores booleans as 1/0.
    expected = {
        (f"{m}_{f}", sensor, ts, float(value))
        for m, f, sensor, ts, value in expected_values(published)
    }

    def stored() -> set[tuple[str, str, int, float]]:
        found = set()
        for series in vm_export(victoria, f'{{device="{HOME_DEVICE}",site="{HOME_SITE}"}}'):
            labels = series["metric"]
            if labels["__name__"].startswith("ingest_"):
                continue  # the gateway's own figures about this device, not its readings
            for ts, value in zip(series["timestamps"], series["values"], strict=True):
                found.add((labels["__name__"], labels.get("sensor", ""), ts, float(value)))
        return found

    settle(lambda: stored() >= expected)
    assert stored() == expected


def test_agent_status_is_online_then_offline_graceful_or_by_last_will(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    status_topic = topics.status(HOME_DEVICE)
    config = str(agent_config(tmp_path, mosquitto))

    def last_status(recorder: Recorder) -> Status | None:
        messages = [p for t, p, _ in recorder.snapshot() if t == status_topic]
        return decode(messages[-1], Status) if messages else None

    recorder = Recorder(mosquitto, status_topic)
    agent = CliProcess(tmp_path / "agent.log", "edge", "run", "--config", config)
    online = wait_for(lambda: last_status(recorder), what="birth message")
    assert online.state == "online"
    assert online.agent.startswith("civic-iot-edge/")
    assert agent.terminate() == 0
    graceful = wait_for(
        lambda: (s := last_status(recorder)) and s.state == "offline" and s, what="offline"
    )
    assert graceful.reason == "graceful"

    agent = CliProcess(tmp_path / "agent2.log", "edge", "run", "--config", config)
    wait_for(lambda: (s := last_status(recorder)) and s.state == "online", what="second birth")
    agent.kill()
    will = wait_for(
        lambda: (s := last_status(recorder)) and s.state == "offline" and s, what="last will"
    )
    assert will.reason == "connection-lost"
    recorder.close()
    late = Recorder(mosquitto, status_topic, client_id="late-subscriber")
    retained = wait_for(late.snapshot, what="retained status")
    assert retained[0][2] is True
    assert decode(retained[0][1], Status).state == "offline"
    late.close()
