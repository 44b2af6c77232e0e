"""A device's usual messages take the short way through the gateway (their shape is
known); whatever a message changes is still checked: a reading stamped ahead of the
gateway's clock, a new sensor name past the device's limit, a key given twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from common.city.inventory import load_inventory
from gateway.config import GatewayConfig
from gateway.ingest import Ingest
from gateway.writers.v1 import V1Writer
from wire import Message, Reading, encode, now_ms, topics
from wire.payloads import MAX_SENSORS_PER_DEVICE

HOME = "home-a001-hub"


@pytest.fixture()
def ingest(tmp_path: Path, repo_root: Path) -> Iterator[Ingest]:
    config = GatewayConfig(gateway_id="gw-routing", state_dir=str(tmp_path), http_listen=None)
    gateway = Ingest(config, load_inventory(repo_root / "firmware-config"),
                     V1Writer("http://127.0.0.1:9"))  # fmt: skip
    yield gateway
    gateway.registry.close()
    gateway.durable.spool.close()


@pytest.fixture()
def dead_letters(ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    letters: list[tuple[str, str]] = []
    monkeypatch.setattr(ingest.router._announce, "dead_letter",
                        lambda topic, payload, reason, where: letters.append((where, reason)))  # fmt: skip
    return letters


def message(seq: int, sensors: list[str], *, own_ts: dict[int, int] | None = None) -> bytes:
    own_ts = own_ts or {}
    readings = [Reading("climate.temperature", 20.0 + index, "Cel", sensor=sensor,
                        ts=own_ts.get(index)) for index, sensor in enumerate(sensors)]  # fmt: skip
    return encode(Message(schema=1, seq=seq, ts=now_ms(), readings=readings))


def stored(ingest: Ingest) -> list[str]:
    return "\n".join(ingest.batch.take()[0].get("civic_watch", [])).splitlines()


ROOMS = [f"room-{n}" for n in range(8)]


def test_the_usual_message_is_stored_reading_by_reading(ingest: Ingest) -> None:
    for seq in (1, 2):
        ingest.handle(topics.telemetry(HOME), message(seq, ROOMS))
    lines = stored(ingest)
    assert len(lines) == 16
    assert lines[9].startswith(f"climate,device={HOME},sensor=room-1,site=")
    assert " temperature=21.0 " in lines[9]


def test_a_reading_stamped_ahead_in_a_usual_message_is_refused(
    ingest: Ingest, dead_letters: list[tuple[str, str]]
) -> None:
    ingest.handle(topics.telemetry(HOME), message(1, ROOMS))
    ahead = now_ms() + 3_600_000
    ingest.handle(topics.telemetry(HOME), message(2, ROOMS, own_ts={5: ahead}))
    assert dead_letters and dead_letters[0][0] == "$.readings[5].ts"
    assert "ahead of the receiver" in dead_letters[0][1]
    assert len(stored(ingest)) == 8  # the first message only


def test_a_new_shape_past_the_devices_sensor_limit_is_refused(
    ingest: Ingest, dead_letters: list[tuple[str, str]]
) -> None:
    names = [f"s{n}" for n in range(MAX_SENSORS_PER_DEVICE)]
    for seq, start in enumerate(range(0, MAX_SENSORS_PER_DEVICE, 8), start=1):
        ingest.handle(topics.telemetry(HOME), message(seq, names[start : start + 8]))
    assert not dead_letters
    ingest.handle(topics.telemetry(HOME), message(99, [*names[:7], "one-too-many"]))
    assert [where for where, _ in dead_letters] == ["$.readings[*].sensor"]
    assert len(stored(ingest)) == MAX_SENSORS_PER_DEVICE


def test_a_key_given_twice_in_a_usual_message_is_refused(
    ingest: Ingest, dead_letters: list[tuple[str, str]]
) -> None:
    ingest.handle(topics.telemetry(HOME), message(1, ROOMS))
    twice = message(2, ROOMS).replace(b'"value":', b'"value":99.0,"value":', 1)
    ingest.handle(topics.telemetry(HOME), twice)
    assert dead_letters and "given twice" in dead_letters[0][1]
    assert len(stored(ingest)) == 8


def test_one_shape_from_devices_at_two_sites_is_stored_with_each_ones_own_tags(
    ingest: Ingest,
) -> None:
    ingest.handle(topics.telemetry(HOME), message(1, ROOMS))
    ingest.handle(topics.telemetry("kitahama-wifi1"), message(1, ROOMS))
    ingest.handle(topics.telemetry("home-a002-hub"), message(1, ROOMS))
    lines, _ = ingest.batch.take()
    homes = "\n".join(lines["civic_watch"]).splitlines()
    facility = "\n".join(lines["civic_facility"]).splitlines()
    assert [line.split(" ")[0] for line in homes[:1] + homes[8:9]] == [
        f"climate,device={HOME},sensor=room-0,site=home-a001",
        "climate,device=home-a002-hub,sensor=room-0,site=home-a002",
    ]
    assert len(homes) == 16 and len(facility) == 8
    assert all(",device=kitahama-wifi1," in line and ",site=community-kitahama " in line
               for line in facility)  # fmt: skip


def test_a_devices_health_readings_go_to_the_operations_database(ingest: Ingest) -> None:
    health = ["system.cpu_percent", "system.mem_used_percent", "system.disk_used_percent",
              "system.load1"]  # fmt: skip
    units = {"system.load1": "1"}
    readings = [Reading(quantity, 40.5, units.get(quantity, "%")) for quantity in health]
    ingest.handle(topics.health(HOME), encode(Message(schema=1, seq=1, ts=now_ms(),
                                                      readings=readings)))  # fmt: skip
    cores = [Reading("system.cpu_temperature", 50.0 + n, "Cel", sensor=f"core{n}")
             for n in range(4)]  # fmt: skip
    ingest.handle(topics.health(HOME), encode(Message(schema=1, seq=2, ts=now_ms(),
                                                      readings=cores)))  # fmt: skip
    lines, _ = ingest.batch.take()
    assert list(lines) == ["civic_ops"]
    made = "\n".join(lines["civic_ops"]).splitlines()
    # One point of the system measurement, then one a core.
    assert [line.split(" ")[1] for line in made] == [
        "cpu_percent=40.5,disk_used_percent=40.5,load1=40.5,mem_used_percent=40.5",
        "cpu_temperature=50.0", "cpu_temperature=51.0", "cpu_temperature=52.0",
        "cpu_temperature=53.0"]  # fmt: skip
    assert made[4].startswith(f"system,device={HOME},sensor=core3,site=home-a001 ")
    record = ingest.registry.get(HOME)
    assert record is not None and record.health["system.cpu_percent"] == 40.5
