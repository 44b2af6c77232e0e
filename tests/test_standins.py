"""The demo's hardware stand-ins drive the real collectors: what comes out is what a
facility or a home would send."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from civic_iot.standins import RECORDINGS
from civic_iot.standins.ble_replay import RecordingError, ReplaySource, load_recording
from civic_iot.standins.facility import ENERGY_UNIT, ConnectivityCheck, FacilityMeters
from civic_iot.standins.wifi_recorded import RecordedWifi
from edge.collectors.ble.collector import BleCollector
from edge.collectors.ble.config import BleConfig, BleDevice
from edge.collectors.modbus.collector import ModbusCollector
from edge.collectors.modbus.config import ModbusConfig, Unit
from edge.collectors.probe.collector import ProbeCollector
from edge.collectors.probe.config import HttpProbe, ProbeConfig
from edge.collectors.wifi.collector import WifiCollector
from edge.collectors.wifi.config import WifiConfig
from tests.support.mqtt import wait_for
from wire import now_ms

HOME = BleConfig(
    type="ble",
    devices=[
        BleDevice(name="living-room", format="atc", address="A4:C1:38:8D:18:B2"),
        BleDevice(
            name="bedroom",
            format="xiaomi",
            address="A4:C1:38:02:83:F4",
            bindkey="e9ea895fac7cca6d30532432a516f3a8",
        ),
        BleDevice(name="entrance", format="switchbot", address="C1:11:22:33:44:02"),
        BleDevice(name="hall", format="switchbot", address="C1:11:22:33:44:03"),
        BleDevice(
            name="resident-tag",
            format="ibeacon",
            beacon_id="e2c56db5dffb48d2b060d0f5a71096e0-100-7",
        ),
    ],
)


def test_the_home_recording_replays_through_the_ble_collector() -> None:
    source = ReplaySource(RECORDINGS / "home-ble.jsonl", speed=200.0)  # 10 minutes in 3 s
    ble = BleCollector(HOME, "home-a001-hub", source)
    seen: dict[tuple[str, str], list[object]] = {}

    def everything_heard() -> bool:
        for reading in ble.collect(now_ms()):
            seen.setdefault((reading.sensor, reading.quantity), []).append(reading.value)
        return {True, False} <= set(seen.get(("entrance", "door.open"), []))

    wait_for(everything_heard, timeout_s=20, what="the entrance to open and shut")
    ble.close()
    assert 19.0 < seen[("living-room", "climate.temperature")][0] < 22.0  # type: ignore[operator]
    assert seen[("bedroom", "climate.humidity")][0] == 46.7
    assert True in seen[("entrance", "door.open")] and False in seen[("entrance", "door.open")]
    assert True in seen[("hall", "motion.detected")]
    assert True in seen[("resident-tag", "tag.present")]


def test_a_broken_recording_names_the_line(tmp_path: Path) -> None:
    recording = tmp_path / "air.jsonl"
    recording.write_text('# comment\n{"t": 0, "address": "AA:BB:CC:DD:EE:FF"}\n', encoding="utf-8")
    with pytest.raises(RecordingError, match=r"air.jsonl:2: KeyError"):
        load_recording(recording)


def test_facility_meters_answer_modbus_with_values_that_move() -> None:
    meters = FacilityMeters()
    meters.server.start()
    try:
        config = ModbusConfig(
            type="modbus",
            units=[
                Unit(name="main-meter", map="eastron-sdm120", port=meters.server.port),
                Unit(name="hall", map="rs485-th-co2", port=meters.server.port, device_id=2),
            ],
        )
        modbus = ModbusCollector(config, "lib-central-energy1")
        first = {(r.sensor, r.quantity): r.value for r in modbus.collect(now_ms())}
        meters._energy_kwh += 12.5  # an afternoon later: the meter's counter has moved
        second = {(r.sensor, r.quantity): r.value for r in modbus.collect(now_ms())}
        modbus.close()
    finally:
        meters.server.stop()
    assert first[("main-meter", "energy.frequency")] == 50.0
    assert 95 < first[("main-meter", "energy.voltage")] < 105  # type: ignore[operator]
    moved = second[("main-meter", "energy.energy")] - first[("main-meter", "energy.energy")]  # type: ignore[operator]
    assert moved == pytest.approx(12.5, abs=0.01)
    assert first[("hall", "climate.co2")] >= 400  # type: ignore[operator]
    assert meters.values(ENERGY_UNIT)["energy.power"] >= 350


def test_recorded_wifi_makes_a_working_access_point() -> None:
    wifi = WifiCollector(
        WifiConfig(type="wifi", mode="ap"),
        "lib-central-wifi1",
        runner=RecordedWifi(RECORDINGS / "wifi"),
    )
    wifi.collect(now_ms())
    time.sleep(0.05)
    readings = {r.quantity: r.value for r in wifi.collect(now_ms())}
    assert readings["wifi.ap_up"] is True
    assert 0 <= readings["wifi.clients"] <= readings["wifi.unique_clients_today"]  # type: ignore[operator]
    assert 0 < readings["wifi.channel_busy"] < 100  # type: ignore[operator]


def test_the_connectivity_check_answers_the_probe() -> None:
    check = ConnectivityCheck().start()
    try:
        probe = ProbeCollector(
            ProbeConfig(type="probe", probes=[HttpProbe(name="portal", url=check.url)]),
            "lib-central-wifi1",
        )
        readings = {r.quantity: r.value for r in probe.collect(now_ms())}
    finally:
        check.stop()
    assert readings["wifi.internet_ok"] is True
    assert readings["wifi.captive_portal"] is False
