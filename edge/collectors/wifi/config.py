"""The wifi collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.collectors.base import IntervalS

Mac = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]


class WifiConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["wifi"]
    name: str = "wifi"
    interval_s: IntervalS = 60.0
    interface: str = "wlan0"
    mode: Literal["probe", "ap"] = "probe"
    # The site's own network: its SSIDs and its access points' BSSIDs (lower case).
    site_ssids: list[str] = msgspec.field(default_factory=list)
    known_bssids: list[Mac] = msgspec.field(default_factory=list)
    scan_every_s: Annotated[float, msgspec.Meta(ge=30)] = 300.0
    timezone: str = "Asia/Tokyo"
    iw: str = "iw"
    hostapd_cli: str = "hostapd_cli"
