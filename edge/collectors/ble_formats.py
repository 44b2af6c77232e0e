"""Decoders of BLE advertisements: bytes in, typed values out, driven by tables.

- BTHome v2 (service data 0xFCD2), clear or AES-CCM encrypted with a bind key
  (https://bthome.io/format/, https://bthome.io/encryption/).
- ATC1441 and pvvx custom formats of the LYWSD03MMC custom firmware (service 0x181A).
- iBeacon (Apple manufacturer data) and Eddystone UID and TLM (service 0xFEAA), which
  residents' tags send.

These are written here rather than taken from bthome-ble / xiaomi-ble because those
packages now depend, through habluetooth, on PyRIC (GPL-3.0); see docs/decisions.md.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

BTHOME_UUID = "0000fcd2-0000-1000-8000-00805f9b34fb"
ENVIRONMENTAL_UUID = "0000181a-0000-1000-8000-00805f9b34fb"
EDDYSTONE_UUID = "0000feaa-0000-1000-8000-00805f9b34fb"
APPLE = 0x004C


class Advertisement(NamedTuple):
    address: str  # upper-case MAC as the radio reports it; never leaves the device
    rssi: int
    service_data: dict[str, bytes]
    manufacturer_data: dict[int, bytes]
    local_name: str | None = None


class DecodeError(Exception):
    """An advertisement that claims a format but does not follow it."""


# BTHome v2 object id -> (name, byte length, signed, factor). Names we publish map to
# quantities in ble.py; the rest are here so their bytes can be skipped.
_BTHOME: dict[int, tuple[str, int, bool, float]] = {
    0x00: ("packet_id", 1, False, 1),
    0x01: ("battery", 1, False, 1),
    0x02: ("temperature", 2, True, 0.01),
    0x03: ("humidity", 2, False, 0.01),
    0x04: ("pressure", 3, False, 0.01),
    0x05: ("illuminance", 3, False, 0.01),
    0x06: ("mass_kg", 2, False, 0.01),
    0x07: ("mass_lb", 2, False, 0.01),
    0x08: ("dewpoint", 2, True, 0.01),
    0x09: ("count", 1, False, 1),
    0x0A: ("energy", 3, False, 0.001),
    0x0B: ("power", 3, False, 0.01),
    0x0C: ("voltage", 2, False, 0.001),
    0x0D: ("pm25", 2, False, 1),
    0x0E: ("pm10", 2, False, 1),
    0x0F: ("generic", 1, False, 1),
    0x10: ("power_on", 1, False, 1),
    0x11: ("opening", 1, False, 1),
    0x12: ("co2", 2, False, 1),
    0x13: ("tvoc", 2, False, 1),
    0x14: ("moisture", 2, False, 0.01),
    **{object_id: (f"binary_{object_id:02x}", 1, False, 1) for object_id in range(0x15, 0x2E)},
    0x1A: ("door", 1, False, 1),
    0x21: ("motion", 1, False, 1),
    0x23: ("occupancy", 1, False, 1),
    0x2D: ("window", 1, False, 1),
    0x2E: ("humidity", 1, False, 1),
    0x2F: ("moisture", 1, False, 1),
    0x3A: ("button", 1, False, 1),
    0x3C: ("dimmer", 2, False, 1),
    0x3D: ("count", 2, False, 1),
    0x3E: ("count", 4, False, 1),
    0x3F: ("rotation", 2, True, 0.1),
    0x40: ("distance_mm", 2, False, 1),
    0x41: ("distance_m", 2, False, 0.1),
    0x42: ("duration", 3, False, 0.001),
    0x43: ("current", 2, False, 0.001),
    0x44: ("speed", 2, False, 0.01),
    0x45: ("temperature", 2, True, 0.1),
    0x46: ("uv_index", 1, False, 0.1),
    0x47: ("volume_l", 2, False, 0.1),
    0x48: ("volume_ml", 2, False, 1),
    0x49: ("flow_rate", 2, False, 0.001),
    0x4A: ("voltage", 2, False, 0.1),
    0x4B: ("gas", 3, False, 0.001),
    0x4C: ("gas", 4, False, 0.001),
    0x4D: ("energy", 4, False, 0.001),
    0x4E: ("volume", 4, False, 0.001),
    0x4F: ("water", 4, False, 0.001),
    0x50: ("timestamp", 4, False, 1),
    0x51: ("acceleration", 2, False, 0.001),
    0x52: ("gyroscope", 2, False, 0.001),
    0x55: ("volume_storage", 4, False, 0.001),
    0x56: ("conductivity", 2, False, 1),
    0x57: ("temperature", 1, True, 1),
    0x58: ("temperature", 1, True, 0.35),
    0x59: ("count", 1, True, 1),
    0x5A: ("count", 2, True, 1),
    0x5B: ("count", 4, True, 1),
    0x5C: ("power", 4, True, 0.01),
    0x5D: ("current", 2, True, 0.001),
    0x5E: ("direction", 2, False, 0.01),
    0x5F: ("precipitation", 2, False, 0.1),
    0x60: ("channel", 1, False, 1),
    0x61: ("rotational_speed", 2, False, 1),
    0xF0: ("device_type", 2, False, 1),
    0xF1: ("firmware", 4, False, 1),
    0xF2: ("firmware", 3, False, 1),
}
_VARIABLE_LENGTH = {0x53, 0x54}  # text, raw: a length byte, then the bytes
BUTTON_EVENTS = {
    1: "press",
    2: "double_press",
    3: "triple_press",
    4: "long_press",
    0x80: "hold_press",
}


# Keys a decoder adds beside the measurements, for the collector's replay check.
COUNTER = "_counter"  # an encryption counter: must increase from one packet to the next
PACKET = "_packet"  # a packet or frame id: the same one again is the same packet repeated


def only_decode_errors(
    decoder: Callable[..., dict[str, float]],
) -> Callable[..., dict[str, float]]:
    """A decoder raises DecodeError and nothing else, whatever bytes arrive."""

    @functools.wraps(decoder)
    def guarded(*args: Any) -> dict[str, float]:
        try:
            return decoder(*args)
        except DecodeError:
            raise
        except (IndexError, ValueError, KeyError, struct.error, OverflowError) as exc:
            raise DecodeError(f"malformed frame ({type(exc).__name__})") from None

    return guarded


@only_decode_errors
def decode_bthome(advertisement: Advertisement, bindkey: bytes | None) -> dict[str, float]:
    """BTHome v2 service data -> {name: value}; DecodeError if it cannot be trusted."""
    data = advertisement.service_data.get(BTHOME_UUID)
    if not data:
        raise DecodeError("no BTHome service data")
    info = data[0]
    if info >> 5 != 2:
        raise DecodeError(f"BTHome version {info >> 5}, expected 2")
    encrypted = bool(info & 0x01)
    if bindkey is not None and not encrypted:
        raise DecodeError("clear-text BTHome from a device with a bind key (downgrade?)")
    payload = _decrypt(advertisement.address, data, bindkey) if encrypted else data[1:]
    values = _bthome_objects(payload)
    if encrypted:
        values[COUNTER] = int.from_bytes(data[-8:-4], "little")
    if "packet_id" in values:
        values[PACKET] = values.pop("packet_id")
    return values


def _decrypt(address: str, data: bytes, bindkey: bytes | None) -> bytes:
    if bindkey is None:
        raise DecodeError("encrypted BTHome and no bind key configured")
    if len(data) < 1 + 8 + 1:
        raise DecodeError("encrypted BTHome too short")
    counter, mic = data[-8:-4], data[-4:]
    nonce = bytes.fromhex(address.replace(":", "")) + bytes.fromhex("d2fc") + data[:1] + counter
    try:
        return AESCCM(bindkey, tag_length=4).decrypt(nonce, data[1:-8] + mic, None)
    except InvalidTag:
        raise DecodeError("BTHome decryption failed: wrong bind key?") from None


def _bthome_objects(payload: bytes) -> dict[str, float]:
    values: dict[str, float] = {}
    index = 0
    while index < len(payload):
        object_id = payload[index]
        index += 1
        if object_id in _VARIABLE_LENGTH:
            index += 1 + payload[index]
            continue
        spec = _BTHOME.get(object_id)
        if spec is None:  # unknown length: the rest cannot be read safely
            break
        name, length, signed, factor = spec
        raw = payload[index : index + length]
        if len(raw) < length:
            raise DecodeError(f"BTHome object 0x{object_id:02x} cut short")
        index += length
        values.setdefault(name, round(int.from_bytes(raw, "little", signed=signed) * factor, 4))
    return values


@only_decode_errors
def decode_atc(advertisement: Advertisement) -> dict[str, float]:
    """ATC1441 (13 bytes, big-endian) or pvvx (15 bytes, little-endian) custom format."""
    data = advertisement.service_data.get(ENVIRONMENTAL_UUID, b"")
    if len(data) == 13:
        temperature, humidity, battery, millivolts = struct.unpack(">hBBH", data[6:12])
        return {
            "temperature": temperature / 10,
            "humidity": float(humidity),
            "battery": float(battery),
            "voltage": millivolts / 1000,
        }
    if len(data) == 15:
        temperature, humidity, millivolts, battery = struct.unpack("<hHHB", data[6:13])
        return {
            "temperature": temperature / 100,
            "humidity": humidity / 100,
            "battery": float(battery),
            "voltage": millivolts / 1000,
        }
    raise DecodeError(f"custom-format service data of {len(data)} bytes, expected 13 or 15")


def ibeacon_id(advertisement: Advertisement) -> str | None:
    """``<uuid>-<major>-<minor>`` of an iBeacon, or None."""
    data = advertisement.manufacturer_data.get(APPLE, b"")
    if len(data) < 23 or data[:2] != b"\x02\x15":
        return None
    major, minor = struct.unpack(">HH", data[18:22])
    return f"{data[2:18].hex()}-{major}-{minor}"


def eddystone(advertisement: Advertisement) -> tuple[str | None, float | None]:
    """(UID ``<namespace>-<instance>``, TLM battery volts) of an Eddystone frame."""
    data = advertisement.service_data.get(EDDYSTONE_UUID, b"")
    if len(data) >= 18 and data[0] == 0x00:
        return f"{data[2:12].hex()}-{data[12:18].hex()}", None
    if len(data) >= 14 and data[0] == 0x20 and data[1] == 0x00:
        (millivolts,) = struct.unpack(">H", data[2:4])
        return None, millivolts / 1000 if millivolts else None
    return None, None
