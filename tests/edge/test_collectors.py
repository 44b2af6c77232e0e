import time
from collections import Counter

import psutil
import pytest

from edge.collectors.simulated.collector import SimulatedCollector
from edge.collectors.simulated.config import ALL_KINDS, SimulatedConfig
from edge.collectors.system.collector import (
    SystemCollector,
    clock_synchronised,
    disk_used_percent,
    memory_used_percent,
    parse_get_throttled,
    throttling_readings,
)
from edge.collectors.system.config import SystemConfig
from wire import CATALOGUE, Message, decode_message, encode

# 2026-01-15 14:00 and 03:00 in Asia/Tokyo
AFTERNOON_MS = 1_768_453_200_000
NIGHT_MS = 1_768_413_600_000


def valid_on_the_wire(readings: list) -> Message:
    """Readings a collector makes must pass the gateway's own decoder."""
    return decode_message(encode(Message(schema=1, seq=1, ts=AFTERNOON_MS, readings=readings)))


def simulated(**overrides: object) -> SimulatedCollector:
    return SimulatedCollector(SimulatedConfig(type="simulated", seed=7, **overrides), "dev-1")  # type: ignore[arg-type]


def test_simulated_produces_every_kind_the_system_carries() -> None:
    collector = simulated(event_rate=1.0)
    readings = collector.collect(AFTERNOON_MS)
    measurements = {CATALOGUE[r.quantity].measurement for r in readings}
    assert measurements == {"wifi", "climate", "battery", "door", "motion", "energy"}
    assert set(ALL_KINDS) <= measurements | {"climate"}
    valid_on_the_wire(readings)


def test_simulated_values_are_plausible_over_a_day() -> None:
    collector = simulated()
    for step in range(24 * 6):
        now = NIGHT_MS + step * 600_000
        for reading in collector.collect(now):
            value = reading.value
            if reading.quantity == "climate.temperature":
                assert 14.0 < value < 26.0
            elif reading.quantity == "climate.humidity":
                assert 15.0 < value < 65.0
            elif reading.quantity == "wifi.rssi":
                assert -80 < value < -35
            elif reading.quantity == "energy.voltage":
                assert 95 < value < 107
            elif reading.quantity.endswith("percent") or reading.unit == "%":
                assert 0.0 <= value <= 100.0


def test_wifi_is_busier_during_opening_hours() -> None:
    day, night = simulated(kinds=["wifi"]), simulated(kinds=["wifi"])
    clients_day = [
        r.value
        for _ in range(30)
        for r in day.collect(AFTERNOON_MS)
        if r.quantity == "wifi.clients"
    ]
    clients_night = [
        r.value for _ in range(30) for r in night.collect(NIGHT_MS) if r.quantity == "wifi.clients"
    ]
    assert sum(clients_day) > 5 * max(1, sum(clients_night))


def test_energy_meter_total_only_grows_with_power() -> None:
    collector = simulated(kinds=["energy"])
    totals = []
    for step in range(10):
        readings = collector.collect(AFTERNOON_MS + step * 60_000)
        totals.append(next(r.value for r in readings if r.quantity == "energy.energy"))
    assert totals == sorted(totals)
    assert totals[-1] > totals[0]


def test_door_events_are_state_changes() -> None:
    collector = simulated(kinds=["door"], event_rate=1.0)
    states = [collector.collect(AFTERNOON_MS + i * 1000)[0].value for i in range(4)]
    assert states == [True, False, True, False]


def test_same_seed_same_stream_and_devices_differ_by_default() -> None:
    assert simulated().collect(AFTERNOON_MS) == simulated().collect(AFTERNOON_MS)
    config = SimulatedConfig(type="simulated", kinds=["climate"])
    a = SimulatedCollector(config, "home-a001-hub").collect(AFTERNOON_MS)
    b = SimulatedCollector(config, "home-a002-hub").collect(AFTERNOON_MS)
    assert a != b


def test_system_collector_reports_this_machine() -> None:
    readings = SystemCollector(SystemConfig(type="system"), "dev-1").collect(AFTERNOON_MS)
    valid_on_the_wire(readings)
    names = Counter(r.quantity for r in readings)
    for quantity in ("system.cpu_percent", "system.mem_used_percent", "system.uptime"):
        assert names[quantity] == 1
    uptime = next(r.value for r in readings if r.quantity == "system.uptime")
    assert uptime > 0


def test_clock_sync_is_read_from_the_kernel() -> None:
    synced = clock_synchronised()
    if synced is None:
        pytest.skip("adjtimex is not available on this platform")
    assert isinstance(synced, bool)


@pytest.mark.parametrize(
    ("output", "throttled", "under_voltage"),
    [
        ("throttled=0x0\n", False, False),
        ("throttled=0x50005\n", True, True),  # under-voltage and throttled now
        ("throttled=0x50000\n", False, False),  # only "has occurred" bits
        ("throttled=0x2\n", True, False),  # frequency capped
    ],
)
def test_raspberry_pi_throttle_flags(output: str, throttled: bool, under_voltage: bool) -> None:
    readings = {r.quantity: r.value for r in throttling_readings(parse_get_throttled(output))}
    assert readings == {"system.throttled": throttled, "system.under_voltage": under_voltage}


def test_no_throttle_readings_off_a_pi() -> None:
    assert throttling_readings(parse_get_throttled('error=1 error_msg="no"')) == []
    assert throttling_readings(None) == []


def test_system_figures_agree_with_psutil() -> None:

    assert abs(memory_used_percent() - psutil.virtual_memory().percent) < 2.0
    assert abs(disk_used_percent("/") - psutil.disk_usage("/").percent) < 0.5
    readings = {
        r.quantity: r.value for r in SystemCollector(SystemConfig(type="system"), "d").collect(0)
    }
    assert abs(readings["system.uptime"] - (time.time() - psutil.boot_time())) < 5
    assert 0.0 <= readings["system.cpu_percent"] <= 100.0
