"""The device registry, fleet events, ops figures and the gateway's own HTTP endpoint,
with a gateway process against a real broker and a real InfluxDB 1.x."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from civic_iot.cli import main
from civic_iot.services import InfluxDB, Mosquitto, free_port
from tests.e2e.stack import run_gateway
from tests.support.influx import influxql
from tests.support.mqtt import Recorder, publish, wait_for
from wire import (
    ConfigDesired,
    ConfigReported,
    Message,
    Reading,
    ServiceEvent,
    Status,
    decode,
    encode,
    now_ms,
    topics,
)

pytestmark = pytest.mark.services
GATEWAY = "gw-test"
HOME = "home-a001-hub"


def message(seq: int, *readings: Reading, ts: int | None = None) -> bytes:
    return encode(Message(schema=1, seq=seq, ts=ts or now_ms(), readings=list(readings)))


def temperature(value: float) -> Reading:
    return Reading("climate.temperature", value, "Cel", sensor="kitchen")


def devices_table(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["devices", *args]) == 0
    return capsys.readouterr().out


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_registry_lists_every_device_with_state_versions_health_and_gaps(
    tmp_path: Path,
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    repo_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    now = now_ms()
    agent = "civic-iot-edge/0.7.1"
    publish(mosquitto, topics.status(HOME), encode(Status(1, "online", now, agent)), retain=True)
    desired = ConfigDesired(schema=1, version=2, config={"collectors": []})
    publish(mosquitto, topics.config_desired(HOME), encode(desired), retain=True)
    reported = ConfigReported(schema=1, version=1, state="applied", ts=now, desired=1)
    publish(mosquitto, topics.config_reported(HOME), encode(reported), retain=True)
    health = [Reading("system.disk_used_percent", 96.0, "%"), Reading("agent.outbox_depth", 3, "1")]
    publish(mosquitto, topics.health(HOME), message(1, *health))
    publish(mosquitto, topics.telemetry(HOME), message(2, temperature(21.0)))
    publish(mosquitto, topics.telemetry(HOME), message(4, temperature(21.5)))  # 3 is missing
    config = tmp_path / f"{GATEWAY}.yaml"

    def row(device: str) -> str:
        table = devices_table(capsys, "--config", str(config))
        return next((line for line in table.splitlines() if line.startswith(device)), "")

    wait_for(lambda: "missing 1" in row(HOME), what="the gap in the registry")
    home = row(HOME)
    for expected in ("home-a001", "online", "0.7.1", "v2 pending (runs v1)", "disk 96%"):
        assert expected in home
    table = devices_table(capsys, "--config", str(config))
    assert "lib-central-meter1" in table and "never" in table
    assert "9 devices" in table
    japanese = devices_table(capsys, "--config", str(config), "--lang", "ja")
    assert "オンライン" in japanese and "未接続" in japanese
    listed = json.loads(devices_table(capsys, "--config", str(config), "--json"))
    assert {r["device_id"] for r in listed} >= {HOME, "welfare-meter1"}
    assert gateway.terminate() == 0


def test_unknown_device_raises_one_event_and_is_not_stored(
    tmp_path: Path,
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    repo_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    events = Recorder(mosquitto, topics.service_event(GATEWAY))
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    for seq in range(3):
        publish(mosquitto, topics.telemetry("stranger-1"), message(seq, temperature(30.0)))
    publish(mosquitto, topics.telemetry(HOME), message(1, temperature(20.0)))
    wait_for(
        lambda: influxql(influxdb, "civic_watch", "SELECT * FROM climate"), what="HOME's reading"
    )
    received = wait_for(events.snapshot, what="the unknown-device event")
    event = decode(received[0][1], ServiceEvent)
    assert (event.kind, event.device) == ("unknown-device", "stranger-1")
    assert "not listed in firmware-config" in event.detail
    rows = influxql(influxdb, "civic_watch", "SELECT * FROM climate")
    assert [row["device"] for row in rows] == [HOME]
    assert gateway.terminate() == 0
    assert len(events.snapshot()) == 1
    assert "'unknown_device_messages': 3" in gateway.log()
    unknown = devices_table(
        capsys, "--config", str(tmp_path / f"{GATEWAY}.yaml"), "--state", "unknown"
    )
    assert "stranger-1" in unknown and HOME not in unknown
    events.close()


def test_ops_figures_silence_events_metrics_and_health(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    port = free_port()
    events = Recorder(mosquitto, topics.service_event(GATEWAY))
    extra = f"http_listen: 127.0.0.1:{port}\nops_interval_s: 1\noffline_after_s: 2\n"
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}", extra=extra)
    sent = now_ms()
    status = Status(1, "online", sent, "civic-iot-edge/0.7.1")
    publish(mosquitto, topics.status(HOME), encode(status), retain=True)
    desired = ConfigDesired(schema=1, version=5, config={"collectors": []})
    publish(mosquitto, topics.config_desired(HOME), encode(desired), retain=True)
    reported = ConfigReported(schema=1, version=4, state="rejected", ts=sent, desired=5)
    publish(mosquitto, topics.config_reported(HOME), encode(reported), retain=True)
    publish(mosquitto, topics.telemetry(HOME), message(1, temperature(20.0), ts=sent - 1500))
    publish(mosquitto, topics.telemetry(HOME), message(3, temperature(20.5), ts=sent))
    publish(mosquitto, topics.telemetry(HOME), message(3, temperature(20.5), ts=sent))

    def ingest_rows() -> list[dict[str, object]]:
        return influxql(
            influxdb, "civic_ops", "SELECT * FROM ingest WHERE device = 'home-a001-hub'"
        )

    rows = wait_for(ingest_rows, what="ingest figures in the operations zone")
    assert sum(row["messages"] for row in rows) == 3
    assert sum(row["seq_duplicates"] for row in rows) == 1
    assert rows[-1]["seq_missing"] == 1
    assert max(row["lag_max_ms"] for row in rows) >= 1500
    # IT's drift table: version 5 is wanted, the agent rejected it and runs 4
    latest = rows[-1]
    drift = [latest[k] for k in ("agent", "config_desired", "config_reported", "config_drift")]
    assert drift == ["civic-iot-edge/0.7.1", 5, 4, 1]
    silent = wait_for(
        lambda: [e for _, e, _ in events.snapshot() if b"device-silent" in e],
        what="the device-silent event",
    )
    assert decode(silent[0], ServiceEvent).device == HOME
    status, body = http_get(port, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    _, metrics = http_get(port, "/metrics")
    assert "civic_gateway_messages_total 6.0" in metrics  # 3 readings, status, 2 configs
    assert 'civic_gateway_devices{state="silent"} 1.0' in metrics
    wait_for(lambda: influxql(influxdb, "civic_ops", "SELECT * FROM gateway"), what="gateway row")
    mosquitto.stop()
    wait_for(lambda: http_get(port, "/healthz")[0] == 503, what="health failing without broker")
    assert "not connected to the MQTT broker" in http_get(port, "/healthz")[1]
    mosquitto.start()
    wait_for(lambda: http_get(port, "/healthz")[0] == 200, what="health back with the broker")
    assert gateway.terminate() == 0
    events.close()
