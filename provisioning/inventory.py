"""The city's sites and devices, read from firmware-config/sites/*.yaml.

One file per site, named after the site's ID; each lists the devices installed there.
Homes carry only a pseudonymous ID: names, addresses and contacts of residents never
enter this repository.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from civic_iot import yamlconf
from wire import Zone, topics

Id = Annotated[str, msgspec.Meta(pattern=topics.DEVICE_ID_PATTERN.pattern)]


class Profile(enum.Enum):
    WIFI_PROBE = "wifi-probe"
    WATCH_OVER_HOME = "watch-over-home"
    FACILITY_ENERGY = "facility-energy"


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class Name(_Strict):
    ja: str
    en: str


class Location(_Strict):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Device(_Strict):
    id: Id
    profile: Profile
    description: str = ""


class Site(_Strict):
    id: Id
    kind: Literal["facility", "home"]
    name: Name
    devices: list[Device]
    timezone: str = "Asia/Tokyo"
    location: Location | None = None
    address: str | None = None

    @property
    def zone(self) -> Zone:
        return Zone.WATCH_OVER if self.kind == "home" else Zone.FACILITY


@dataclass(frozen=True)
class DevicePlacement:
    """Where a device is: what the gateway adds to its readings."""

    device: Device
    site: Site


@dataclass(frozen=True)
class Inventory:
    root: Path
    sites: dict[str, Site]
    devices: dict[str, DevicePlacement]

    def placement(self, device_id: str) -> DevicePlacement | None:
        return self.devices.get(device_id)


def load_inventory(root: Path) -> Inventory:
    """Read every site file under ``root/sites``; ConfigError on the first mistake."""
    site_dir = root / "sites"
    files = sorted(site_dir.glob("*.yaml"))
    if not files:
        raise yamlconf.ConfigError(str(site_dir), "no site files (*.yaml) found")
    sites: dict[str, Site] = {}
    devices: dict[str, DevicePlacement] = {}
    seen_at: dict[str, str] = {}
    for path in files:
        document = yamlconf.read(path)
        site = yamlconf.convert(document, Site)
        _check_site(document, path, site)
        if site.id in sites:
            raise document.error("$.id", f"site {site.id!r} is defined twice")
        sites[site.id] = site
        for index, device in enumerate(site.devices):
            if device.id in devices:
                raise document.error(
                    f"$.devices[{index}].id",
                    f"device {device.id!r} is already listed in {seen_at[device.id]}",
                )
            devices[device.id] = DevicePlacement(device, site)
            seen_at[device.id] = path.name
    return Inventory(root, sites, devices)


def _check_site(document: yamlconf.Document, path: Path, site: Site) -> None:
    if path.stem != site.id:
        raise document.error("$.id", f"site {site.id!r} must live in a file named {site.id}.yaml")
    try:
        ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise document.error(
            "$.timezone", f"unknown time zone {site.timezone!r} (expected e.g. Asia/Tokyo)"
        ) from None
    if site.kind == "home" and (site.address is not None or site.location is not None):
        raise document.error(
            "$.address" if site.address is not None else "$.location",
            "a home keeps its address and location in the residents file, outside the "
            "repository (personal data)",
        )
