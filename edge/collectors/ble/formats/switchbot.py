"""SwitchBot meters, contact sensors and motion sensors, decoded by pySwitchbot's own
advertisement parser (MIT).

pySwitchbot is imported on first use: it is heavy (aiohttp, pyOpenSSL) and only a Pi
with SwitchBot devices registered needs it.
"""

from __future__ import annotations

from typing import Any

from edge.collectors.ble.advertisement import (
    Advertisement,
    BleFormat,
    DecodeError,
    only_decode_errors,
)

# pySwitchbot's names -> the names ble.py maps to quantities
_NAMES = {
    "temperature": "temperature",
    "humidity": "humidity",
    "battery": "battery",
    "co2": "co2",
    "contact_open": "door",
    "motion_detected": "motion",
    "button_count": "button_count",
}


@only_decode_errors
def decode_switchbot(
    advertisement: Advertisement, bindkey: bytes | None = None
) -> dict[str, float]:
    """SwitchBot service or manufacturer data -> {name: value}."""
    from bleak.backends.device import BLEDevice  # noqa: PLC0415 - see the module docstring
    from bleak.backends.scanner import AdvertisementData  # noqa: PLC0415
    from switchbot.adv_parser import parse_advertisement_data  # noqa: PLC0415

    data = AdvertisementData(
        local_name=advertisement.local_name,
        manufacturer_data=advertisement.manufacturer_data,
        service_data=advertisement.service_data,
        service_uuids=list(advertisement.service_data),
        tx_power=None,
        rssi=advertisement.rssi,
        platform_data=(),
    )
    device = BLEDevice(advertisement.address, advertisement.local_name, None)
    parsed = parse_advertisement_data(device, data)
    if parsed is None or not parsed.data.get("data"):
        raise DecodeError("not a SwitchBot advertisement pySwitchbot can read")
    return _renamed(parsed.data["data"])


def _renamed(values: dict[str, Any]) -> dict[str, float]:
    return {
        _NAMES[key]: float(value)
        for key, value in values.items()
        if key in _NAMES and value is not None
    }


# Service data 0xFD3D (and 0x0D00 of older models); manufacturer data under Woan's
# company id 0x0969, and 0x02E5 and 0x0059 for some models (pySwitchbot's adv_parser).
FORMAT = BleFormat(
    "switchbot",
    decode=decode_switchbot,
    service_uuids=(0xFD3D, 0x0D00),
    manufacturers=(0x0969, 0x02E5, 0x0059),
)
