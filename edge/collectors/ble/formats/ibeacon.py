"""iBeacon (Apple manufacturer data), which residents' tags send: their id is
``<uuid>-<major>-<minor>``."""

from __future__ import annotations

import struct

from edge.collectors.ble.advertisement import Advertisement, BleFormat

APPLE = 0x004C


def ibeacon_id(advertisement: Advertisement) -> str | None:
    """``<uuid>-<major>-<minor>`` of an iBeacon, or None."""
    data = advertisement.manufacturer_data.get(APPLE, b"")
    if len(data) < 23 or data[:2] != b"\x02\x15":
        return None
    major, minor = struct.unpack(">HH", data[18:22])
    return f"{data[2:18].hex()}-{major}-{minor}"


FORMAT = BleFormat("ibeacon", beacon_id=ibeacon_id, manufacturers=(APPLE,))
