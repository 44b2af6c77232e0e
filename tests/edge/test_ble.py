"""BLE decoding and the BLE collector on recorded advertisements (no radio).

BTHome v2 vectors are from bthome-ble's own tests (tests/test_parser_v2.py, MIT);
MiBeacon vectors from xiaomi-ble's (tests/test_parser.py, Apache-2.0), SwitchBot vectors
from pySwitchbot's (tests/test_adv_parser.py, MIT); the ATC/pvvx, iBeacon and Eddystone
vectors are built from their published formats."""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bleak.args.bluez import OrPattern
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.collectors.ble.advertisement import Advertisement, DecodeError
from edge.collectors.ble.collector import (
    BleakSource,
    BleCollector,
    from_bleak,
    passive_patterns,
)
from edge.collectors.ble.config import BleConfig, BleDevice
from edge.collectors.ble.formats.atc import ENVIRONMENTAL_UUID, decode_atc
from edge.collectors.ble.formats.bthome import BTHOME_UUID, decode_bthome
from edge.collectors.ble.formats.eddystone import EDDYSTONE_UUID, eddystone
from edge.collectors.ble.formats.ibeacon import APPLE, ibeacon_id
from edge.collectors.ble.formats.mibeacon import MIBEACON_UUID, decode_mibeacon
from edge.collectors.ble.formats.switchbot import decode_switchbot
from edge.kept import KeptState
from tests.support.clock import FakeClock
from tests.support.mqtt import wait_for
from wire import Message, decode_message, encode

SHELLY = "54:48:E6:8F:80:A5"
SHELLY_KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
SHELLY_ENCRYPTED = bytes.fromhex("41a47266c95f730011223378237214")
CLEAR = bytes.fromhex("40002e01641e012e34451601")  # packet 46, battery 100, humidity 52, 27.8 C
TAG_UUID = bytes.fromhex("e2c56db5dffb48d2b060d0f5a71096e0")


def measured(decoder: Any, *args: Any) -> dict[str, float]:
    """What a decoder measured, without its replay-check keys (``_packet``, ``_counter``);
    those are asserted where they matter."""
    return {k: v for k, v in decoder(*args).items() if not k.startswith("_")}


def bthome(address: str, payload: bytes, rssi: int = -60) -> Advertisement:
    return Advertisement(address, rssi, {BTHOME_UUID: payload}, {})


def ibeacon(
    major: int, minor: int, rssi: int = -70, address: str = "7A:11:22:33:44:55"
) -> Advertisement:
    data = b"\x02\x15" + TAG_UUID + struct.pack(">HHb", major, minor, -59)
    return Advertisement(address, rssi, {}, {APPLE: data})


def test_bthome_encrypted_with_the_right_key() -> None:
    values = measured(decode_bthome, bthome(SHELLY, SHELLY_ENCRYPTED), SHELLY_KEY)
    assert values == {"temperature": 25.06, "humidity": 50.55}


def test_bthome_wrong_key_and_downgrade_are_refused() -> None:
    wrong = bytes.fromhex("814aac74c4f17b6c1581e1ab87816b99")
    with pytest.raises(DecodeError, match="wrong bind key"):
        measured(decode_bthome, bthome(SHELLY, SHELLY_ENCRYPTED), wrong)
    with pytest.raises(DecodeError, match="downgrade"):
        measured(decode_bthome, bthome(SHELLY, CLEAR), SHELLY_KEY)
    with pytest.raises(DecodeError, match="no bind key"):
        measured(decode_bthome, bthome(SHELLY, SHELLY_ENCRYPTED), None)


def test_bthome_clear_text_objects() -> None:
    values = decode_bthome(bthome(SHELLY, CLEAR), None)
    assert (values["_packet"], values["battery"], values["humidity"], values["temperature"]) == (
        46,
        100,
        52,
        27.8,
    )
    assert measured(decode_bthome, bthome(SHELLY, bytes.fromhex("4004138a01")), None) == {
        "pressure": 1008.83
    }
    with pytest.raises(DecodeError, match="version 7"):
        measured(decode_bthome, bthome(SHELLY, bytes.fromhex("e102000c0404138a01")), None)


def test_atc1441_and_pvvx_formats() -> None:
    mac = bytes.fromhex("a4c1388d18b2")
    atc = mac + struct.pack(">hBBHB", -52, 41, 88, 2950, 7)  # -5.2 C, 41 %, 88 %, 2.95 V
    pvvx = mac[::-1] + struct.pack("<hHHBBB", 2134, 4512, 3011, 97, 8, 0)
    assert measured(
        decode_atc, Advertisement("A4:C1:38:8D:18:B2", -60, {ENVIRONMENTAL_UUID: atc}, {})
    ) == {
        "temperature": -5.2,
        "humidity": 41.0,
        "battery": 88.0,
        "voltage": 2.95,
    }
    assert measured(
        decode_atc, Advertisement("A4:C1:38:8D:18:B2", -60, {ENVIRONMENTAL_UUID: pvvx}, {})
    ) == {
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


def home(radio: Replay, clock: FakeClock | None = None, **overrides: object) -> BleCollector:
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
    return BleCollector(config, "home-a001-hub", radio, clock or FakeClock())


def values(readings: list) -> dict[tuple[str, str], object]:
    """What the sensors said, without the scanner's own health."""
    return {(r.sensor, r.quantity): r.value for r in readings if r.sensor}


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
    radio, clock = Replay(), FakeClock()
    ble = home(radio, clock, absence_after_s=10, rssi_smoothing=0.5)
    radio.hear(ibeacon(100, 7, rssi=-60))
    radio.hear(ibeacon(100, 7, rssi=-80))
    assert values(ble.collect(0))[("resident-tag", "tag.rssi")] == -70.0
    clock.advance(11)  # not heard for 11 s
    assert values(ble.collect(0)) == {("resident-tag", "tag.present"): False}


def test_a_stalled_scanner_is_restarted() -> None:
    radio, clock = Replay(), FakeClock()
    ble = home(radio, clock, stall_after_s=10)
    clock.advance(11)
    ble.collect(0)
    assert (ble.restarts, radio.starts) == (1, 2)
    radio.hear(ibeacon(100, 7))  # it hears again
    assert values(ble.collect(0))[("resident-tag", "tag.present")] is True


# -- Xiaomi MiBeacon ---------------------------------------------------------------------

LYWSD03MMC = "A4:C1:38:02:83:F4"
LYWSD03MMC_KEY = bytes.fromhex("e9ea895fac7cca6d30532432a516f3a8")
LYWSD03MMC_FRAME = b"XX[\x05P\xf4\x83\x028\xc1\xa4\x95\xefXv<&\x00\x00\x97\xe2\xab\xb5"
DOOR = "E4:AA:EC:81:21:AE"  # MCCGQ02HL
DOOR_KEY = bytes.fromhex("017e52d2684779298709b117c0a75a7b")
DOOR_LEFT_OPEN = b"XX\x8b\t\xa3\xae!\x81\xec\xaa\xe4\x0e,U<\x04\x00\x00\xd2\x8aP\x0c"


def mibeacon(address: str, frame: bytes) -> Advertisement:
    return Advertisement(address, -60, {MIBEACON_UUID: frame}, {})


def test_mibeacon_clear_text_v2_and_v3() -> None:
    lywsdcgq = b"P \xaa\x01\xda!\x9354-X\r\x10\x04\xfe\x00H\x02"
    assert measured(decode_mibeacon, mibeacon("58:2D:34:35:93:21", lywsdcgq), None) == {
        "temperature": 25.4,
        "humidity": 58.4,
    }
    night_light_motion = b"@0\xdd\x03$\x03\x00\x01\x01"  # MUE4094RT, no MAC in the frame
    assert measured(decode_mibeacon, mibeacon("DE:70:E8:B2:39:0C", night_light_motion), None) == {
        "motion": 1.0
    }


def test_mibeacon_v5_encrypted_with_and_without_mac_in_the_frame() -> None:
    # xiaomi-ble shows 46 % (it truncates for this model); the frame holds 46.7 %.
    frame = mibeacon(LYWSD03MMC, LYWSD03MMC_FRAME)
    assert measured(decode_mibeacon, frame, LYWSD03MMC_KEY) == {"humidity": 46.7}
    xmwsdj04mmc = b"HY\x03\x12\xa4\x1bwn|\x96\xad\xd7\x00\x00\x00\xf2\xbfT["
    key = bytes.fromhex("b2cf9a553d53571b5657defd582d676e")
    assert measured(decode_mibeacon, mibeacon("2C:11:65:25:70:04", xmwsdj04mmc), key) == {
        "humidity": 45.0
    }
    assert measured(decode_mibeacon, mibeacon(DOOR, DOOR_LEFT_OPEN), DOOR_KEY) == {"door": 1.0}


def test_mibeacon_refuses_what_it_cannot_trust() -> None:
    frame = mibeacon(LYWSD03MMC, LYWSD03MMC_FRAME)
    with pytest.raises(DecodeError, match="wrong bind key"):
        measured(decode_mibeacon, frame, DOOR_KEY)
    with pytest.raises(DecodeError, match="no bind key"):
        measured(decode_mibeacon, frame, None)
    clear = mibeacon("58:2D:34:35:93:21", b"P \xaa\x01\xda!\x9354-X\r\x10\x04\xfe\x00H\x02")
    with pytest.raises(DecodeError, match="downgrade"):
        measured(decode_mibeacon, clear, LYWSD03MMC_KEY)
    legacy = mibeacon(
        "F8:24:41:C5:98:8B", b"X0\xb6\x03\xd2\x8b\x98\xc5A$\xf8\xc3I\x14vu~\x00\x00\x00\x99"
    )
    with pytest.raises(DecodeError, match="legacy"):
        measured(decode_mibeacon, legacy, bytes.fromhex("b853075158487aa39a5b5ea9" + "00" * 4))
    cut = mibeacon("58:2D:34:35:93:21", b"P \xaa\x01\xda!\x9354-X\r\x10\x04\xfe")
    with pytest.raises(DecodeError, match="cut short"):
        measured(decode_mibeacon, cut, None)


# -- SwitchBot, through pySwitchbot ------------------------------------------------------

SWITCHBOT_UUID = "0000fd3d-0000-1000-8000-00805f9b34fb"
METER = Advertisement(
    "C1:11:22:33:44:01",
    -50,
    {SWITCHBOT_UUID: b"T\x00\xe4\x06\x985"},
    {2409: b"\xd7\xc1}]\xebC\xde\x03\x06\x985"},
)
CONTACT = "C1:11:22:33:44:02"


def contact(service: bytes, rssi: int = -59) -> Advertisement:
    return Advertisement(CONTACT, rssi, {SWITCHBOT_UUID: service}, {})


CONTACT_OPEN = contact(b"d@\xda\x02\x00\x17\x00QD")  # battery 90, 4 presses so far
CONTACT_CLOSED = contact(b"d@\xda\x00\x00+\x00\x19\x84")
CONTACT_CLOSED_PRESSED = contact(b"d@\xda\x00\x00+\x00\x19\x85")  # press counter 4 -> 5
MOTION = Advertisement(
    "C1:11:22:33:44:03",
    -87,
    {SWITCHBOT_UUID: b"s@\xe2\x00f\x01"},
    {},
)


def test_switchbot_meter_contact_and_motion() -> None:
    assert measured(decode_switchbot, METER) == {
        "temperature": 24.6,
        "humidity": 53.0,
        "battery": 100.0,
    }
    assert measured(decode_switchbot, CONTACT_OPEN) == {
        "motion": 1.0,
        "battery": 90.0,
        "door": 1.0,
        "button_count": 4.0,
    }
    assert measured(decode_switchbot, MOTION) == {"motion": 1.0, "battery": 98.0}
    with pytest.raises(DecodeError, match="SwitchBot"):
        measured(
            decode_switchbot, Advertisement(CONTACT, -50, {SWITCHBOT_UUID: b""}, {2403: b"\x00"})
        )


# -- the collector: events, buttons, scanner health, the bleak boundary ------------------


def watch_over_home(radio: Replay) -> tuple[BleCollector, list[int]]:
    config = BleConfig(
        type="ble",
        devices=[
            BleDevice(name="entrance", format="switchbot", address=CONTACT),
            BleDevice(
                name="bedroom", format="xiaomi", address=LYWSD03MMC, bindkey=LYWSD03MMC_KEY.hex()
            ),
            BleDevice(name="hall", format="switchbot", address="C1:11:22:33:44:03"),
        ],
    )
    collector = BleCollector(config, "home-a001-hub", radio)
    wakes: list[int] = []
    collector.set_waker(lambda: wakes.append(1))
    return collector, wakes


def test_a_door_change_is_an_event_with_its_own_time_and_wakes_the_agent() -> None:
    radio = Replay()
    ble, wakes = watch_over_home(radio)
    radio.hear(CONTACT_CLOSED)
    radio.hear(CONTACT_CLOSED)  # the same state again: no new event
    radio.hear(CONTACT_OPEN)
    radio.hear(CONTACT_CLOSED)
    readings = ble.collect(0)
    doors = [r for r in readings if r.quantity == "door.open" and r.ts is not None]
    assert [d.value for d in doors] == [False, True, False]
    assert all(d.sensor == "entrance" for d in doors)
    assert doors[0].ts <= doors[1].ts <= doors[2].ts
    assert len(wakes) >= 3
    assert values(readings)[("entrance", "battery.level")] == 90.0


def test_a_switchbot_press_counter_change_is_a_button_press() -> None:
    radio = Replay()
    ble, _ = watch_over_home(radio)
    radio.hear(CONTACT_CLOSED)  # first sight: the counter says 4, not a press
    radio.hear(CONTACT_CLOSED)
    assert not [r for r in ble.collect(0) if r.quantity.startswith("button.")]
    radio.hear(CONTACT_CLOSED_PRESSED)
    pressed = [r for r in ble.collect(0) if r.quantity.startswith("button.")]
    assert [(r.quantity, r.sensor, r.value) for r in pressed] == [
        ("button.pressed", "entrance", True)
    ]


def test_encrypted_xiaomi_and_motion_reach_their_quantities() -> None:
    radio = Replay()
    ble, _ = watch_over_home(radio)
    radio.hear(mibeacon(LYWSD03MMC, LYWSD03MMC_FRAME))
    radio.hear(MOTION)
    got = values(ble.collect(0))
    assert got[("bedroom", "climate.humidity")] == 46.7
    assert got[("hall", "motion.detected")] is True


def test_a_bad_sensor_is_logged_once_and_again_when_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    radio = Replay()
    ble, _ = watch_over_home(radio)
    forged = mibeacon(LYWSD03MMC, LYWSD03MMC_FRAME[:-1] + b"\x00")  # the MIC no longer fits
    for _ in range(5):
        radio.hear(forged)
    assert values(ble.collect(0)).get(("bedroom", "climate.humidity")) is None
    radio.hear(mibeacon(LYWSD03MMC, LYWSD03MMC_FRAME))
    messages = [r.getMessage() for r in caplog.records if "bedroom" in r.getMessage()]
    assert len(messages) == 2
    assert "wrong bind key" in messages[0]
    assert "recovered" in messages[1]


def test_scanner_health_is_published_and_a_stall_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    radio, clock = Replay(), FakeClock()
    ble = home(radio, clock, stall_after_s=10)
    health = {r.quantity: r.value for r in ble.collect(0) if not r.sensor}
    assert health == {"ble.scanner_ok": True, "ble.scanner_restarts": 0, "ble.replays_refused": 0}
    for restarts in (1, 2):
        clock.advance(11)
        health = {r.quantity: r.value for r in ble.collect(0) if not r.sensor}
        assert health == {
            "ble.scanner_ok": False,
            "ble.scanner_restarts": restarts,
            "ble.replays_refused": 0,
        }
    radio.hear(ibeacon(100, 7))
    assert {r.quantity: r.value for r in ble.collect(0) if not r.sensor}["ble.scanner_ok"]
    scanner = [r.getMessage() for r in caplog.records if "BLE scanner" in r.getMessage()]
    assert len(scanner) == 2
    assert "heard nothing" in scanner[0]
    assert "recovered" in scanner[1]


def test_a_tag_without_beacon_id_or_a_sensor_without_address_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'wallet'.* needs beacon_id"):
        BleDevice(name="wallet", format="ibeacon")
    with pytest.raises(ValueError, match=r"'kitchen'.* needs address"):
        BleDevice(name="kitchen", format="xiaomi")
    with pytest.raises(ValueError, match="switchbot has no bind key"):
        BleDevice(name="hall", format="switchbot", address=CONTACT, bindkey="00" * 16)


def test_bleak_advertisements_cross_the_boundary_unchanged() -> None:
    data = AdvertisementData(
        local_name="ATC_8D18B2",
        manufacturer_data={2409: b"\x01"},
        service_data={ENVIRONMENTAL_UUID: b"\x02"},
        service_uuids=[ENVIRONMENTAL_UUID],
        tx_power=None,
        rssi=-71,
        platform_data=(),
    )
    advertisement = from_bleak(BLEDevice("a4:c1:38:8d:18:b2", "ATC_8D18B2", None), data)
    assert advertisement == Advertisement(
        "A4:C1:38:8D:18:B2", -71, {ENVIRONMENTAL_UUID: b"\x02"}, {2409: b"\x01"}, "ATC_8D18B2"
    )
    patterns = passive_patterns()
    assert all(isinstance(p, OrPattern) for p in patterns)
    # every format the collector decodes gets through a passive scan
    prefixes = {bytes(p.content_of_pattern) for p in patterns}
    for uuid in (BTHOME_UUID, MIBEACON_UUID, ENVIRONMENTAL_UUID, EDDYSTONE_UUID, SWITCHBOT_UUID):
        assert int(uuid[4:8], 16).to_bytes(2, "little") in prefixes
    assert APPLE.to_bytes(2, "little") in prefixes


def test_a_missing_adapter_is_reported_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    config = BleConfig(
        type="ble",
        devices=[BleDevice(name="bedroom", format="atc", address="A4:C1:38:8D:18:B2")],
        stall_after_s=10,
    )
    source, clock = BleakSource("hci97"), FakeClock()
    ble = BleCollector(config, "home-a001-hub", source, clock)
    wait_for(lambda: source.error, timeout_s=30, what="bleak's error for a missing adapter")
    clock.advance(11)
    health = {r.quantity: r.value for r in ble.collect(0) if not r.sensor}
    assert health == {"ble.scanner_ok": False, "ble.scanner_restarts": 1, "ble.replays_refused": 0}
    assert any(source.error.split(":")[0] in r.getMessage() for r in caplog.records)
    ble.close()


def sealed(counter: int, objects: bytes, address: str = SHELLY) -> Advertisement:
    """An encrypted BTHome v2 packet as a Shelly sends it, with this counter."""
    info = b"\x41"
    nonce = bytes.fromhex(address.replace(":", "")) + bytes.fromhex("d2fc") + info
    nonce += counter.to_bytes(4, "little")
    sealed_objects = AESCCM(SHELLY_KEY, tag_length=4).encrypt(nonce, objects, None)
    frame = info + sealed_objects[:-4] + counter.to_bytes(4, "little") + sealed_objects[-4:]
    return bthome(address, frame)


def test_a_packet_repeated_is_one_press_and_a_replayed_counter_is_refused() -> None:
    radio = Replay()
    ble = home(radio)
    press = b"\x3a\x01"  # button: press
    for _ in range(3):  # a device sends each packet several times
        radio.hear(sealed(10, press))
    radio.hear(sealed(11, press))  # the second press
    radio.hear(sealed(10, press))  # someone recorded the first and plays it back
    readings = ble.collect(0)
    presses = [r for r in readings if r.quantity == "button.pressed"]
    assert len(presses) == 2
    assert {r.quantity: r.value for r in readings if not r.sensor}["ble.replays_refused"] == 1


def test_a_restarted_agent_still_refuses_a_replayed_counter(tmp_path: Path) -> None:
    """The counters go to the agent's state directory (edge/kept.py) and come back."""
    press = b"\x3a\x01"
    radio = Replay()
    before = home(radio)
    radio.hear(sealed(20, press))
    assert [r for r in before.collect(0) if r.quantity == "button.pressed"]
    KeptState(tmp_path).save([before])
    before.close()

    radio = Replay()
    after = home(radio)  # the agent started again, its collectors built anew
    KeptState(tmp_path).restore([after])
    radio.hear(sealed(20, press))  # the recorded press played back
    readings = after.collect(0)
    assert not [r for r in readings if r.quantity == "button.pressed"]
    assert {r.quantity: r.value for r in readings if not r.sensor}["ble.replays_refused"] == 0
    radio.hear(sealed(21, press))  # a new press still counts
    assert [r for r in after.collect(0) if r.quantity == "button.pressed"]

    after.restore({})  # `fleet command <device> forget-kept` after a battery change
    radio.hear(sealed(1, press))
    assert [r for r in after.collect(0) if r.quantity == "button.pressed"]


def test_unreadable_kept_state_is_forgotten_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "collectors-kept.json").write_text("{not json", encoding="utf-8")
    radio = Replay()
    ble = home(radio)
    KeptState(tmp_path).restore([ble])
    radio.hear(sealed(5, b"\x3a\x01"))
    assert [r for r in ble.collect(0) if r.quantity == "button.pressed"]


def test_a_mibeacon_frame_carrying_another_devices_mac_is_refused() -> None:
    frame = bytearray(DOOR_LEFT_OPEN)
    with pytest.raises(DecodeError, match="not the sender's"):
        decode_mibeacon(mibeacon("E4:AA:EC:81:21:AF", bytes(frame)), DOOR_KEY)


@settings(max_examples=int(os.environ.get("CIVIC_FUZZ_EXAMPLES", "300")), deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=32))
def test_decoders_raise_only_their_own_error(service: bytes, maker: bytes) -> None:
    data = {BTHOME_UUID: service, MIBEACON_UUID: service, SWITCHBOT_UUID: service,
            ENVIRONMENTAL_UUID: service}  # fmt: skip
    advertisement = Advertisement(SHELLY, -60, data, {2409: maker, 76: maker})
    for decode in (lambda a: decode_bthome(a, None), lambda a: decode_bthome(a, SHELLY_KEY),
                   lambda a: decode_mibeacon(a, None), lambda a: decode_mibeacon(a, DOOR_KEY),
                   decode_atc, decode_switchbot):  # fmt: skip
        try:
            result = decode(advertisement)
        except DecodeError as exc:
            assert str(exc)  # it says why
        else:
            assert all(isinstance(value, int | float) for value in result.values())
