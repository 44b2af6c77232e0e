"""The gateway process against a real broker and a real InfluxDB 1.x."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from pathlib import Path

import msgspec
import pytest

from civic_iot.services import InfluxDB, Mosquitto
from tests.e2e.stack import run_gateway
from tests.support.influx import influxql
from tests.support.mqtt import Recorder, publish, publish_many, settle, wait_for
from wire import AlertState, DeadLetter, Message, Reading, decode, encode, now_ms, topics

pytestmark = pytest.mark.services
GATEWAY = "gw-test"


def climate(seq: int, value: float, ts: int | None = None) -> bytes:
    reading = Reading("climate.temperature", value, "Cel", sensor="kitchen")
    return encode(Message(schema=1, seq=seq, ts=ts or now_ms(), readings=[reading]))


def stored_temperatures(influxdb: InfluxDB) -> list[float]:
    rows = influxql(influxdb, "civic_watch", "SELECT temperature FROM climate ORDER BY time")
    return [row["temperature"] for row in rows]


def test_refused_payloads_are_dead_lettered_with_reasons_and_ingest_goes_on(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    letters = Recorder(mosquitto, topics.dead_letter(GATEWAY))
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    home = "home-a001-hub"
    wrong_unit = msgspec.json.encode(
        {
            "schema": 1,
            "seq": 2,
            "ts": now_ms(),
            "readings": [{"quantity": "climate.temperature", "value": 70, "unit": "F"}],
        }
    )
    mac_sensor = encode(
        Message(
            schema=1,
            seq=3,
            ts=now_ms(),
            readings=[Reading("climate.temperature", 20.0, "Cel", sensor="a4c1385d21f0")],
        )
    )
    bad = [
        (topics.telemetry(home), b"\xff\xfe not json", "not valid JSON"),
        (topics.telemetry(home), wrong_unit, "unit 'F' for climate.temperature"),
        (topics.telemetry(home), mac_sensor, "looks like a hardware address"),
        (topics.telemetry(home), climate(5, 30.0, now_ms() + 3_600_000), "ahead of the receiver"),
        (topics.telemetry(home), b"\xff" * 200_000, "not valid JSON"),  # bigger than 4 KB
    ]
    for topic, payload, _ in bad:
        publish(mosquitto, topic, payload)
    publish(mosquitto, topics.telemetry(home), climate(4, 21.25))
    wait_for(lambda: stored_temperatures(influxdb) == [21.25], what="the valid reading")
    received = wait_for(
        lambda: len(letters.snapshot()) >= 5 and letters.snapshot(), what="5 dead letters"
    )
    dead = [decode(payload, DeadLetter) for _, payload, _ in received]
    for letter, (topic, _, reason) in zip(dead, bad, strict=True):
        assert letter.topic == topic
        assert reason in letter.reason
    assert dead[0].encoding == "base64"
    assert dead[1].where == "$.readings[0].unit"
    assert msgspec.json.decode(dead[1].payload)["readings"][0]["unit"] == "F"
    assert dead[2].where == "$.readings[0].sensor"
    assert dead[3].where == "$.ts"  # a clock an hour ahead: never stored
    # A huge payload is dead-lettered as an excerpt with its length and hash.
    assert dead[4].length == 200_000 and len(dead[4].payload) < 6_000
    assert dead[4].sha256 == hashlib.sha256(b"\xff" * 200_000).hexdigest()
    publish(mosquitto, topics.telemetry(home), climate(6, 22.5))
    wait_for(lambda: stored_temperatures(influxdb) == [21.25, 22.5], what="ingest goes on")
    # One impossible reading is refused; the rest of its message is stored.
    mixed = Message(schema=1, seq=7, ts=now_ms() + 1, readings=[
        Reading("climate.temperature", 23.5, "Cel", sensor="kitchen"),
        Reading("climate.humidity", 250.0, "%", sensor="kitchen")])  # fmt: skip
    publish(mosquitto, topics.telemetry(home), encode(mixed))
    wait_for(lambda: stored_temperatures(influxdb) == [21.25, 22.5, 23.5], what="the kept one")
    sixth = wait_for(lambda: len(letters.snapshot()) >= 6 and letters.snapshot()[5], what="6th")
    assert decode(sixth[1], DeadLetter).where == "$.readings[1].value"
    letters.close()
    assert gateway.terminate() == 0
    assert "'dead_letters': 6" in gateway.log()


def test_influxdb_restart_mid_stream_loses_no_reading(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    base = now_ms() - 60_000
    device = topics.telemetry("home-a001-hub")
    for seq in range(5):
        publish(mosquitto, device, climate(seq, 20.0 + seq, ts=base + seq))
    wait_for(lambda: len(stored_temperatures(influxdb)) == 5, what="first five")
    influxdb.stop()
    for seq in range(5, 10):
        publish(mosquitto, device, climate(seq, 20.0 + seq, ts=base + seq))
    wait_for(lambda: "is failing" in gateway.log(), what="the gateway to notice the outage")
    influxdb.start()
    wait_for(lambda: len(stored_temperatures(influxdb)) == 10, what="all ten after restart")
    assert stored_temperatures(influxdb) == [20.0 + seq for seq in range(10)]
    assert gateway.terminate() == 0
    assert "recovered" in gateway.log()


def spooled_points(tmp_path: Path) -> int:
    path = tmp_path / "gateway-state" / GATEWAY / "spool.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute("SELECT coalesce(sum(points), 0) FROM batch").fetchone()[0])
        except sqlite3.OperationalError:  # the gateway has not made its table yet
            return 0


def test_points_held_in_the_spool_survive_a_gateway_restart(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    """While InfluxDB is down the gateway commits batches to its spool and acknowledges
    them; the broker forgets them, so only the spool has them. They reach InfluxDB
    after the gateway itself has been restarted."""
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    base = now_ms() - 60_000
    device = topics.telemetry("home-a001-hub")
    influxdb.stop()
    publish_many(
        mosquitto, [(device, climate(seq, 10.0 + seq / 10, ts=base + seq)) for seq in range(200)]
    )
    wait_for(lambda: spooled_points(tmp_path) == 200, what="200 points in the spool")
    assert gateway.terminate() == 0
    spooled = re.search(r"'points_spooled': (\d+)", gateway.log())
    assert spooled and int(spooled[1]) >= 200  # the readings, and the gateway's own figures
    influxdb.start()
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    wait_for(lambda: len(stored_temperatures(influxdb)) == 200, what="the spool drained")
    assert stored_temperatures(influxdb) == [10.0 + seq / 10 for seq in range(200)]
    wait_for(lambda: spooled_points(tmp_path) == 0, what="the spool empty (ops figures last)")
    assert gateway.terminate() == 0
    assert "the spool is empty again" in gateway.log()


def test_a_gateway_killed_mid_batch_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    """Messages are acknowledged only after their points are written, so what a killed
    gateway had in memory is sent again by the broker to the restarted one."""
    slow = "{max_points: 100000, max_delay_s: 30}"  # holds everything in one open batch
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}", batch=slow)
    base = now_ms() - 600_000
    device = topics.telemetry("home-a001-hub")
    publish_many(
        mosquitto,
        [(device, climate(seq, round(seq / 100, 2), ts=base + seq)) for seq in range(1500)],
    )
    assert stored_temperatures(influxdb) == []  # all of it is in the killed gateway's batch
    gateway.kill()
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    wait_for(lambda: len(stored_temperatures(influxdb)) == 1500, what="all 1500 points")
    assert stored_temperatures(influxdb) == [round(seq / 100, 2) for seq in range(1500)]
    assert gateway.terminate() == 0


def test_influxdb_down_for_a_minute_under_steady_load_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    """Four homes keep publishing (about 100 readings/s) while InfluxDB is stopped for
    60 s: the gateway spools, acknowledges, and drains once InfluxDB is back."""
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    homes = ["home-a001-hub", "home-a002-hub", "home-a003-hub", "home-a004-hub"]
    base = now_ms() - 3_600_000
    sent = 0

    def publish_for(seconds: float) -> None:
        nonlocal sent
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = [
                (topics.telemetry(home), climate(sent + i, 20.0, ts=base + sent + i))
                for i in range(25)
                for home in homes
            ]
            publish_many(mosquitto, batch)
            sent += 25
            time.sleep(0.25)

    publish_for(5)
    influxdb.stop()
    publish_for(60)
    influxdb.start()
    publish_for(5)
    expected = sent * len(homes)
    wait_for(
        lambda: len(stored_temperatures(influxdb)) == expected, 120, f"all {expected} readings"
    )
    assert gateway.terminate() == 0
    log = gateway.log()
    assert "is failing" in log and "the spool is empty again" in log


def alert_state(alert_id: int, site: str, state: str, ts: int) -> bytes:
    return encode(AlertState(
        schema=1, alert_id=alert_id, rule="room-very-cold", title="室温が10℃を下回っています",
        site=site, severity="urgent", state=state, opened_ts=ts - 60_000, ts=ts,  # type: ignore[arg-type]
    ))  # fmt: skip


def test_alert_states_are_stored_in_their_sites_zone_for_the_dashboards(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    letters = Recorder(mosquitto, topics.dead_letter(GATEWAY))
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    t0, alerts = now_ms(), topics.service_alert("alerts-1")
    publish_many(mosquitto, [
        (alerts, alert_state(1, "home-a001", "firing", t0)),
        (alerts, alert_state(1, "home-a001", "acknowledged", t0 + 1)),
        (alerts, alert_state(2, "lib-central", "firing", t0)),
        (alerts, alert_state(3, "home-z999", "firing", t0)),
    ])  # fmt: skip
    query = 'SELECT last("state") AS "state", last("open") AS "open" FROM "alert" GROUP BY "alert"'

    def last_states(database: str) -> list[tuple[str, str, int]]:
        return [(r["alert"], r["state"], r["open"]) for r in influxql(influxdb, database, query)]

    settle(lambda: last_states("civic_watch") == [("1", "acknowledged", 1)]
           and last_states("civic_facility") == [("2", "firing", 1)])  # fmt: skip
    assert last_states("civic_watch") == [("1", "acknowledged", 1)]
    assert last_states("civic_facility") == [("2", "firing", 1)]
    letter = decode(wait_for(letters.snapshot, what="a dead letter")[0][1], DeadLetter)
    assert letter.where == "$.site" and "home-z999" in letter.reason
    letters.close()
    assert gateway.terminate() == 0


def test_a_gateway_started_while_influxdb_is_down_spools_and_catches_up(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    influxdb.stop()
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")  # online
    base = now_ms() - 60_000
    for seq in range(5):
        publish(mosquitto, topics.telemetry("home-a001-hub"), climate(seq, 20.0 + seq, base + seq))
    wait_for(lambda: spooled_points(tmp_path) == 5, what="five points in the spool")
    influxdb.start()

    def stored() -> int:
        try:
            return len(stored_temperatures(influxdb))
        except AssertionError:  # the gateway has not created its database yet
            return 0

    wait_for(lambda: stored() == 5, timeout_s=60, what="all five")
    assert gateway.terminate() == 0
    assert "storage set-up is failing" in gateway.log()
    assert "HTTPConnection object at" not in gateway.log()  # reasons, not object reprs


def test_a_message_in_a_quiet_moment_is_written_without_waiting_for_the_batch_delay(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    """A batch goes out once no message has come for ``quiet_s``: a quiet city's single
    reading (or the end of a burst) does not wait the batch's ``max_delay_s``."""
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}",
                          batch="{max_points: 20000, max_delay_s: 120, quiet_s: 0.05}")  # fmt: skip
    publish(mosquitto, topics.telemetry("home-a001-hub"), climate(1, 21.5))
    wait_for(lambda: stored_temperatures(influxdb) == [21.5], 30, "the reading, long before 120 s")
    assert gateway.terminate() == 0
