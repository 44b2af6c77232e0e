"""BLE decoding and the BLE collector on recorded advertisements (no radio).

BTHome v2 vectors are from bthome-ble's own tests (tests/test_parser_v2.py, MIT);
the ATC/pvvx, iBeacon and Eddystone vectors are built from their published formats."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

import pytest

from edge.collectors.ble import BleCollector, BleConfig, BleDevice
from edge.collectors.ble_formats import (
    APPLE,
    BTHOME_UUID,
    EDDYSTONE_UUID,
    ENVIRONMENTAL_UUID,
    Advertisement,
    DecodeError,
    decode_atc,
    decode_bthome,
    eddystone,
    ibeacon_id,
)
from wire import Message, decode_message, encode

SHELLY = "54:48:E6:8F:80:A5"
SHELLY_KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
SHELLY_ENCRYPTED = bytes.fromhex("41a47266c95f730011223378237214")
CLEAR = bytes.fromhex("40002e01641e012e34451601")  # packet 46, battery 100, humidity 52, 27.8 C
TAG_UUID = bytes.fromhex("e2c56db5dffb48d2b060d0f5a71096e0")


def bthome(address: str, payload: bytes, rssi: int = -60) -> Advertisement:
    return Advertisement(address, rssi, {BTHOME_UUID: payload}, {})


def ibeacon(
    major: int, minor: int, rssi: int = -70, address: str = "7A:11:22:33:44:55"
) -> Advertisement:
    data = b"\x02\x15" + TAG_UUID + struct.pack(">HHb", major, minor, -59)
    return Advertisement(address, rssi, {}, {APPLE: data})


def test_bthome_encrypted_with_the_right_key() -> None:
    values = decode_bthome(bthome(SHELLY, SHELLY_ENCRYPTED), SHELLY_KEY)
    assert values == {"temperature": 25.06, "humidity": 50.55}


def test_bthome_wrong_key_and_downgrade_are_refused() -> None:
    wrong = bytes.fromhex("814aac74c4f17b6c1581e1ab87816b99")
    with pytest.raises(DecodeError, match="wrong bind key"):
        decode_bthome(bthome(SHELLY, SHELLY_ENCRYPTED), wrong)
    with pytest.raises(DecodeError, match="downgrade"):
        decode_bthome(bthome(SHELLY, CLEAR), SHELLY_KEY)
    with pytest.raises(DecodeError, match="no bind key"):
        decode_bthome(bthome(SHELLY, SHELLY_ENCRYPTED), None)


def test_bthome_clear_text_objects() -> None:
    values = decode_bthome(bthome(SHELLY, CLEAR), None)
    assert (values["packet_id"], values["battery"], values["humidity"], values["temperature"]) == (
        46,
        100,
        52,
        27.8,
    )
    assert decode_bthome(bthome(SHELLY, bytes.fromhex("4004138a01")), None) == {"pressure": 1008.83}
    with pytest.raises(DecodeError, match="version 7"):
        decode_bthome(bthome(SHELLY, bytes.fromhex("e102000c0404138a01")), None)


def test_atc1441_and_pvvx_formats() -> None:
    mac = bytes.fromhex("a4c1388d18b2")
    atc = mac + struct.pack(">hBBHB", -52, 41, 88, 2950, 7)  # -5.2 C, 41 %, 88 %, 2.95 V
    pvvx = mac[::-1] + struct.pack("<hHHBBB", 2134, 4512, 3011, 97, 8, 0)
    assert decode_atc(Advertisement("A4:C1:38:8D:18:B2", -60, {ENVIRONMENTAL_UUID: atc}, {})) == {
        "temperature": -5.2,
        "humidity": 41.0,
        "battery": 88.0,
        "voltage": 2.95,
    }
    assert decode_atc(Advertisement("A4:C1:38:8D:18:B2", -60, {ENVIRONMENTAL_UUID: pvvx}, {})) == {
        "temperature": 21.34,
        "humidity": 45.12,
        "battery": 97.0,
        "voltage": 3.011,
    }


def test_ibeacon_and_eddystone() -> None:
    assert ibeacon_id(ibeacon(100, 7)) == f"{TAG_UUID.hex()}-100-7"
    uid = (
        b"\x00\xe7"
        + bytes.fromhex("00010203040506070809")
        + bytes.fromhex("0a0b0c0d0e0f")
        + b"\x00\x00"
    )
    tlm = b"\x20\x00" + struct.pack(">HhII", 2980, 0x1900, 1000, 5000)
    assert eddystone(Advertisement("X", -70, {EDDYSTONE_UUID: uid}, {})) == (
        "00010203040506070809-0a0b0c0d0e0f",
        None,
    )
    assert eddystone(Advertisement("X", -70, {EDDYSTONE_UUID: tlm}, {})) == (None, 2.98)


class Replay:
    """Stands in for the radio: the collector's callback, driven by the test."""

    def __init__(self) -> None:
        self.callback: Callable[[Advertisement], None] | None = None
        self.starts = 0

    def start(self, callback: Callable[[Advertisement], None]) -> None:
        self.callback = callback
        self.starts += 1

    def stop(self) -> None:
        self.callback = None

    def hear(self, advertisement: Advertisement) -> None:
        assert self.callback is not None, "the scanner is stopped"
        self.callback(advertisement)


def home(radio: Replay, **overrides: object) -> BleCollector:
    config = BleConfig(
        type="ble",
        devices=[
            BleDevice(
                name="living-room", format="bthome", address=SHELLY, bindkey=SHELLY_KEY.hex()
            ),
            BleDevice(name="resident-tag", format="ibeacon", beacon_id=f"{TAG_UUID.hex()}-100-7"),
        ],
        **overrides,  # type: ignore[arg-type]
    )
    return BleCollector(config, "home-a001-hub", radio)


def values(readings: list) -> dict[tuple[str, str], object]:
    return {(r.sensor, r.quantity): r.value for r in readings}


def test_only_registered_devices_are_published_collapsed_and_without_macs() -> None:
    radio = Replay()
    ble = home(radio)
    for _ in range(5):  # the same advertisement many times
        radio.hear(bthome(SHELLY, SHELLY_ENCRYPTED))
    radio.hear(bthome("11:22:33:44:55:66", CLEAR))  # the neighbour's thermometer
    radio.hear(ibeacon(100, 7, rssi=-70))
    radio.hear(ibeacon(999, 1))  # a stranger's beacon
    readings = ble.collect(0)
    assert values(readings) == {
        ("living-room", "climate.temperature"): 25.06,
        ("living-room", "climate.humidity"): 50.55,
        ("resident-tag", "tag.present"): True,
        ("resident-tag", "tag.rssi"): -70.0,
    }
    payload = encode(Message(schema=1, seq=1, ts=1_763_856_000_000, readings=readings)).decode()
    assert not re.search(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", payload)
    decode_message(payload.encode())
    again = values(ble.collect(0))  # collapsed and consumed: only the tag's state is left
    assert set(again) == {("resident-tag", "tag.present"), ("resident-tag", "tag.rssi")}


def test_tag_rssi_is_smoothed_and_absence_detected() -> None:
    radio = Replay()
    ble = home(radio, absence_after_s=10, rssi_smoothing=0.5)
    radio.hear(ibeacon(100, 7, rssi=-60))
    radio.hear(ibeacon(100, 7, rssi=-80))
    assert values(ble.collect(0))[("resident-tag", "tag.rssi")] == -70.0
    ble._tags["resident-tag"].last_heard -= 11  # not heard for 11 s
    assert values(ble.collect(0)) == {("resident-tag", "tag.present"): False}


def test_a_stalled_scanner_is_restarted() -> None:
    radio = Replay()
    ble = home(radio, stall_after_s=10)
    ble._last_advertisement -= 11
    ble.collect(0)
    assert (ble.restarts, radio.starts) == (1, 2)
    radio.hear(ibeacon(100, 7))  # it hears again
    assert values(ble.collect(0))[("resident-tag", "tag.present")] is True
