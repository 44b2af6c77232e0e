"""Xiaomi MiBeacon (service data 0xFE95) of stock-firmware sensors: thermometers,
door contacts, motion sensors and buttons; clear text (v2 to v5) or AES-CCM encrypted
(v4, v5) with the device's bind key.

Written here, not taken from xiaomi-ble, because that package pulls in PyRIC (GPL-3.0)
through habluetooth; see docs/decisions.md. Frame layout as documented by Xiaomi's
MiBeacon specification and implemented by xiaomi-ble and ble_monitor.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from edge.collectors.ble.advertisement import (
    COUNTER,
    PACKET,
    Advertisement,
    BleFormat,
    DecodeError,
    only_decode_errors,
)

MIBEACON_UUID = "0000fe95-0000-1000-8000-00805f9b34fb"

_ENCRYPTED = 0x0008
_HAS_MAC = 0x0010
_HAS_CAPABILITY = 0x0020
_HAS_OBJECT = 0x0040
_IO_CAPABILITY = 0x20
# MiBeacon button press kinds -> the BTHome button event codes ble.py understands
_PRESS = {0: 1, 1: 2, 2: 4}


def _door(raw: bytes) -> dict[str, float]:
    # 0 open, 1 closed, 2 left open too long, 3 device reset
    return {"door": 1.0 if raw[0] in (0, 2) else 0.0} if raw[0] != 3 else {}


def _button(raw: bytes) -> dict[str, float]:
    press = _PRESS.get(raw[2]) if len(raw) >= 3 else None
    return {"button": float(press)} if press else {}


# object id -> decoder of its value bytes
_OBJECTS: dict[int, Callable[[bytes], dict[str, float]]] = {
    0x1004: lambda raw: {"temperature": struct.unpack("<h", raw[:2])[0] / 10},
    0x1006: lambda raw: {"humidity": struct.unpack("<H", raw[:2])[0] / 10},
    0x100A: lambda raw: {"battery": float(raw[0])},
    0x100D: lambda raw: {
        "temperature": struct.unpack("<h", raw[:2])[0] / 10,
        "humidity": struct.unpack("<H", raw[2:4])[0] / 10,
    },
    0x1019: _door,
    0x0003: lambda raw: {"motion": 1.0},  # motion (night lights)
    0x000F: lambda raw: {"motion": 1.0},  # motion, with illuminance
    0x1017: lambda raw: {"motion": 0.0},  # seconds without motion
    0x1001: _button,
    0x4C01: lambda raw: {"temperature": round(struct.unpack("<f", raw[:4])[0], 2)},
    0x4C02: lambda raw: {"humidity": float(raw[0])},
    0x4C03: lambda raw: {"battery": float(raw[0])},
    0x4C08: lambda raw: {"humidity": round(struct.unpack("<f", raw[:4])[0], 2)},
    0x4803: lambda raw: {"battery": float(raw[0])},
    0x4A08: lambda raw: {"motion": 1.0},  # motion, with illuminance (float)
}


@only_decode_errors
def decode_mibeacon(advertisement: Advertisement, bindkey: bytes | None) -> dict[str, float]:
    """MiBeacon service data -> {name: value}; DecodeError if it cannot be trusted."""
    data = advertisement.service_data.get(MIBEACON_UUID)
    if not data or len(data) < 5:
        raise DecodeError("no MiBeacon service data")
    frame_control = int.from_bytes(data[:2], "little")
    version = frame_control >> 12
    if not frame_control & _HAS_OBJECT:
        return {}  # a bare beacon: nothing measured
    index = 5
    mac = bytes.fromhex(advertisement.address.replace(":", ""))[::-1]
    if frame_control & _HAS_MAC:
        if data[5:11] != mac:  # a frame carried over from another device
            raise DecodeError("the MAC address in the frame is not the sender's")
        index = 11
    if frame_control & _HAS_CAPABILITY:
        index += 2 if data[index] & _IO_CAPABILITY else 1
    payload = data[index:]
    encrypted = bool(frame_control & _ENCRYPTED)
    if encrypted:
        counter = data[4:5] + payload[-7:-4]  # frame number, then the extended counter
        payload = _decrypt(version, mac, data[2:5], payload, bindkey)
    elif bindkey is not None:
        raise DecodeError("clear-text MiBeacon from a device with a bind key (downgrade?)")
    values = _objects(payload)
    values[PACKET] = float(data[4])
    if encrypted:
        values[COUNTER] = float(int.from_bytes(counter, "little"))
    return values


def _decrypt(
    version: int, mac: bytes, product_and_counter: bytes, payload: bytes, bindkey: bytes | None
) -> bytes:
    if version < 4:
        raise DecodeError(f"MiBeacon v{version} legacy encryption is not supported")
    if bindkey is None:
        raise DecodeError("encrypted MiBeacon and no bind key configured")
    if len(payload) < 3 + 4 + 1:
        raise DecodeError("encrypted MiBeacon too short")
    ciphertext, counter, mic = payload[:-7], payload[-7:-4], payload[-4:]
    nonce = mac + product_and_counter + counter
    try:
        return AESCCM(bindkey, tag_length=4).decrypt(nonce, ciphertext + mic, b"\x11")
    except InvalidTag:
        raise DecodeError("MiBeacon decryption failed: wrong bind key?") from None


def _objects(payload: bytes) -> dict[str, float]:
    values: dict[str, float] = {}
    index = 0
    while index + 3 <= len(payload):
        object_id = int.from_bytes(payload[index : index + 2], "little")
        length = payload[index + 2]
        raw = payload[index + 3 : index + 3 + length]
        if len(raw) < length:
            raise DecodeError(f"MiBeacon object 0x{object_id:04x} cut short")
        index += 3 + length
        decoder = _OBJECTS.get(object_id)
        if decoder is not None:
            try:
                values.update(decoder(raw))
            except (struct.error, IndexError):
                raise DecodeError(f"MiBeacon object 0x{object_id:04x} of {length} bytes") from None
    return values


FORMAT = BleFormat("xiaomi", decode=decode_mibeacon, keyed=True, service_uuids=(0xFE95,))
