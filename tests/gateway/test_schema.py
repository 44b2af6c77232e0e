from pathlib import Path

import pytest

from common.city.inventory import DevicePlacement, load_inventory
from gateway.schema import Databases, markdown_table, message_lines
from wire import Message, Reading, Zone

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
