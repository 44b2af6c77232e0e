"""Eddystone UID and TLM (service data 0xFEAA), which residents' tags send: the UID
frame carries the tag's id, the TLM frame its battery voltage."""

from __future__ import annotations

import struct

from edge.collectors.ble.advertisement import Advertisement, BleFormat

EDDYSTONE_UUID = "0000feaa-0000-1000-8000-00805f9b34fb"


def eddystone(advertisement: Advertisement) -> tuple[str | None, float | None]:
    """(UID ``<namespace>-<instance>``, TLM battery volts) of an Eddystone frame."""
    data = advertisement.service_data.get(EDDYSTONE_UUID, b"")
    if len(data) >= 18 and data[0] == 0x00:
        return f"{data[2:12].hex()}-{data[12:18].hex()}", None
    if len(data) >= 14 and data[0] == 0x20 and data[1] == 0x00:
        (millivolts,) = struct.unpack(">H", data[2:4])
        return None, millivolts / 1000 if millivolts else None
    return None, None


FORMAT = BleFormat(
    "eddystone",
    beacon_id=lambda advertisement: eddystone(advertisement)[0],
    battery_v=lambda advertisement: eddystone(advertisement)[1],
    service_uuids=(0xFEAA,),
)
