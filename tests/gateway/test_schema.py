from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_iot.services import InfluxDB
from common.city.inventory import DevicePlacement, load_inventory
from gateway.lineprotocol import line
from gateway.schema import Databases, markdown_table, message_lines
from gateway.writers.v1 import V1Writer
from tests.support.influx import influxql
from wire import CATALOGUE, Message, Reading, ValueType, Zone, encode
from wire.payloads import decode_faultless

TS = 1_763_856_000_000


@pytest.fixture(scope="module")
def placements(repo_root: Path) -> dict[str, DevicePlacement]:
    return load_inventory(repo_root / "firmware-config").devices


def test_readings_of_one_sensor_and_time_share_a_point(
    placements: dict[str, DevicePlacement],
) -> None:
    message = Message(
        schema=1,
        seq=5,
        ts=TS,
        readings=[
            Reading("climate.temperature", 19, "Cel", sensor="kitchen"),
            Reading("climate.humidity", 40.5, "%", sensor="kitchen"),
            Reading("climate.temperature", 17.25, "Cel", sensor="bedroom", ts=TS - 1000),
            Reading("system.uptime", 3600, "s"),
        ],
    )
    lines = message_lines(message, "home-a001-hub", placements["home-a001-hub"])
    assert lines == {
        Zone.WATCH_OVER: [
            f"climate,device=home-a001-hub,sensor=kitchen,site=home-a001 humidity=40.5,temperature=19 {TS}",
            f"climate,device=home-a001-hub,sensor=bedroom,site=home-a001 temperature=17.25 {TS - 1000}",
        ],
        Zone.OPERATIONS: [f"system,device=home-a001-hub,site=home-a001 uptime=3600i {TS}"],
    }


def test_the_same_quantity_goes_to_the_zone_of_the_site(
    placements: dict[str, DevicePlacement],
) -> None:
    message = Message(
        schema=1, seq=1, ts=TS, readings=[Reading("climate.temperature", 21.0, "Cel")]
    )
    assert set(message_lines(message, "home-a002-hub", placements["home-a002-hub"])) == {
        Zone.WATCH_OVER
    }
    assert set(message_lines(message, "welfare-meter1", placements["welfare-meter1"])) == {
        Zone.FACILITY
    }


def test_a_home_never_writes_the_facility_zone(placements: dict[str, DevicePlacement]) -> None:
    readings = [Reading("energy.power", 120.0, "W"), Reading("wifi.clients", 3, "1"),
                Reading("system.uptime", 60, "s")]  # fmt: skip
    message = Message(schema=1, seq=1, ts=TS, readings=readings)
    zones = message_lines(message, "home-a001-hub", placements["home-a001-hub"])
    assert set(zones) == {Zone.WATCH_OVER, Zone.OPERATIONS}
    assert set(message_lines(message, "welfare-meter1", placements["welfare-meter1"])) == {
        Zone.FACILITY, Zone.OPERATIONS
    }  # fmt: skip


def test_databases_per_zone_are_configurable() -> None:
    databases = Databases(watch_over="w", facility="f", operations="o")
    assert [databases.of(zone) for zone in Zone] == ["w", "f", "o"]


def test_schema_document_holds_the_current_table(repo_root: Path) -> None:
    document = (repo_root / "docs" / "influxdb-schema.md").read_text(encoding="utf-8")
    assert markdown_table() in document


# Float and boolean quantities of a home, whose lines take the C-speed path when a
# message has several readings.
PLAIN = sorted(name for name, q in CATALOGUE.items()
               if q.zone is None and q.type is not ValueType.INT)  # fmt: skip


def _point(text: str) -> tuple[str, str, float | bool, int]:
    """(series, field, value, ts) of a one-field line, the value as InfluxDB reads it."""
    series, field_set, ts = text.rsplit(" ", 2)
    field, value = field_set.split("=")
    parsed = value == "true" if value in ("true", "false") else float(value)
    return series, field, parsed, int(ts)


@st.composite
def many_readings(draw: st.DrawFn) -> list[Reading]:
    sensors = draw(st.lists(st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True), min_size=4,
                            max_size=12, unique=True))  # fmt: skip
    readings = []
    for sensor in sensors:
        quantity = CATALOGUE[draw(st.sampled_from(PLAIN))]
        if quantity.type is ValueType.BOOL:
            value: bool | int | float = draw(st.booleans())
        else:
            value = draw(st.floats(quantity.low, quantity.high) | st.integers(0, 100))
        readings.append(Reading(quantity.name, value, quantity.unit, sensor=sensor))
    return readings


@settings(max_examples=200, deadline=None)
@given(many_readings())
def test_a_message_of_many_readings_makes_the_points_a_line_per_reading_would(
    placements: dict[str, DevicePlacement], readings: list[Reading]
) -> None:
    payload = encode(Message(schema=1, seq=1, ts=TS, readings=readings))
    message = decode_faultless(payload)
    assert message is not None
    made = message_lines(message, "home-a001-hub", placements["home-a001-hub"])
    expected = []
    for reading in readings:
        quantity = CATALOGUE[reading.quantity]
        value = reading.value if isinstance(reading.value, bool) else float(reading.value)
        tags = {"device": "home-a001-hub", "site": "home-a001", "sensor": reading.sensor}
        expected.append(line(quantity.measurement, tags, {quantity.field: value}, TS))
    assert list(made) == [Zone.WATCH_OVER]
    assert [_point(text) for text in made[Zone.WATCH_OVER]] == [_point(t) for t in expected]


@pytest.mark.services
def test_values_at_the_edges_of_their_format_are_stored_as_sent(
    placements: dict[str, DevicePlacement], influxdb: InfluxDB
) -> None:
    values = [1e-7, -0.0, 21.0, 99.99999999999999, 5e-324, 41, 1.5e-5, 100]
    readings = [Reading("climate.humidity", value, "%", sensor=f"s{index}")
                for index, value in enumerate(values)]  # fmt: skip
    readings.append(Reading("door.open", True, "1", sensor="front"))
    message = decode_faultless(encode(Message(schema=1, seq=1, ts=TS, readings=readings)))
    assert message is not None
    lines = message_lines(message, "home-a001-hub", placements["home-a001-hub"])
    writer = V1Writer(influxdb.url)
    writer.query('CREATE DATABASE "edges"', "")
    writer.write("edges", lines[Zone.WATCH_OVER])
    writer.close()
    rows = influxql(influxdb, "edges", "SELECT humidity, sensor FROM climate")
    stored = {row["sensor"]: row["humidity"] for row in rows}
    assert stored == {f"s{index}": float(value) for index, value in enumerate(values)}
    doors = influxql(influxdb, "edges", "SELECT open FROM door")
    assert [row["open"] for row in doors] == [True]
