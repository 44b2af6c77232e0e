"""ATC1441 and pvvx custom formats of the LYWSD03MMC custom firmware (service data
0x181A), clear text."""

from __future__ import annotations

import struct

from edge.collectors.ble.advertisement import (
    Advertisement,
    BleFormat,
    DecodeError,
    only_decode_errors,
)

ENVIRONMENTAL_UUID = "0000181a-0000-1000-8000-00805f9b34fb"


@only_decode_errors
def decode_atc(advertisement: Advertisement, bindkey: bytes | None = None) -> dict[str, float]:
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


FORMAT = BleFormat("atc", decode=decode_atc, service_uuids=(0x181A,))
