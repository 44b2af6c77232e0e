"""BTHome v2 (service data 0xFCD2), clear or AES-CCM encrypted with a bind key
(https://bthome.io/format/, https://bthome.io/encryption/): bytes in, typed values out,
driven by a table.

Written here rather than taken from bthome-ble because that package now depends,
through habluetooth, on PyRIC (GPL-3.0); see docs/decisions.md.
"""

from __future__ import annotations

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

BTHOME_UUID = "0000fcd2-0000-1000-8000-00805f9b34fb"


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


FORMAT = BleFormat("bthome", decode=decode_bthome, keyed=True, service_uuids=(0xFCD2,))
