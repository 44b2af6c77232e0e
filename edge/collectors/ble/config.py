"""The ble collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.collectors.base import IntervalS
from edge.collectors.ble.formats import FORMATS
from wire.payloads import SensorId

Mac = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
BindKey = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{32}$")]


class BleDevice(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: SensorId
    format: str  # a name in formats.FORMATS
    address: Mac | None = None  # sensors: their MAC (kept on the Pi only)
    bindkey: BindKey | None = None  # encrypted BTHome or MiBeacon
    beacon_id: str | None = None  # tags: iBeacon uuid-major-minor or Eddystone namespace-instance

    def __post_init__(self) -> None:
        known = FORMATS.get(self.format)
        if known is None:
            raise ValueError(
                f"BLE device {self.name!r}: format {self.format!r} is not one of "
                f"{', '.join(FORMATS)}"
            )
        if known.is_tag and not self.beacon_id:
            raise ValueError(
                f"BLE device {self.name!r}: format {self.format} is a tag: it needs beacon_id"
            )
        if not known.is_tag and not self.address:
            raise ValueError(
                f"BLE device {self.name!r}: format {self.format} is a sensor: it needs address"
            )
        if self.bindkey and not known.keyed:
            raise ValueError(f"BLE device {self.name!r}: {self.format} has no bind key")


class BleConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["ble"]
    devices: Annotated[list[BleDevice], msgspec.Meta(min_length=1)]
    name: str = "ble"
    interval_s: IntervalS = 30.0
    absence_after_s: Annotated[float, msgspec.Meta(ge=10)] = 300.0
    stall_after_s: Annotated[float, msgspec.Meta(ge=10)] = 120.0
    rssi_smoothing: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.3
    adapter: str = "hci0"
