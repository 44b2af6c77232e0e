"""Read and cross-check firmware-config/: city.yaml, profiles/*.yaml, sites/*.yaml.

One file per site and per profile, each named after its ID. Every mistake is reported
with file, line and key; checks that span files (a device listed twice, a profile that
does not exist) name both places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common import yamlconf
from common.city.model import (
    City,
    Device,
    DeviceProfile,
    EscalationStep,
    ServiceAccount,
    Site,
)

T = TypeVar("T", Site, DeviceProfile)
# Checks the collector config at a path of a document (the edge's schemas; given by the
# caller, so that reading the city never imports the Pi's libraries).
CollectorCheck = Callable[[yamlconf.Document, str], object]


@dataclass(frozen=True, slots=True)
class DevicePlacement:
    """A device where it is installed: what the gateway adds to its readings. (Slots:
    a city of 50,000 devices has 50,000 of these in every service.)"""

    device: Device
    site: Site
    profile: DeviceProfile

    def collectors(self) -> list[dict[str, Any]]:
        """The profile's collectors with the device's own merged over them by name."""
        merged = {_collector_name(c): c for c in self.profile.collectors}
        for own in self.device.collectors:
            merged[_collector_name(own)] = own
        return list(merged.values())


@dataclass(frozen=True)
class Inventory:
    root: Path
    city: City
    profiles: dict[str, DeviceProfile]
    sites: dict[str, Site]
    devices: dict[str, DevicePlacement]

    def placement(self, device_id: str) -> DevicePlacement | None:
        return self.devices.get(device_id)

    def escalation(self, site: Site) -> list[EscalationStep]:
        return site.escalation if site.escalation is not None else self.city.escalation[site.kind]

    def service(self, service_id: str) -> ServiceAccount | None:
        return next((s for s in self.city.services if s.id == service_id), None)


def _no_check(document: yamlconf.Document, at: str) -> None:
    """Collectors are the edge's business; a role that does not run them skips them."""


def load_inventory(root: Path, check_collector: CollectorCheck = _no_check) -> Inventory:
    """Read all of firmware-config under ``root``; ConfigError on the first mistake.
    ``check_collector`` validates each collector config (provisioning passes the edge's
    schemas, `edge.collectors.collector_config`)."""
    city_document = yamlconf.read(root / "city.yaml")
    city = yamlconf.convert(city_document, City)
    _check_city(city_document, city)
    profiles = dict(_load_each(root / "profiles", DeviceProfile, _check_profile(check_collector)))
    sites: dict[str, Site] = {}
    devices: dict[str, DevicePlacement] = {}
    for document, site in _documents(root / "sites", Site):
        _check_site(document, site)
        for index, device in enumerate(site.devices):
            where = f"$.devices[{index}]"
            if device.id in devices:
                other = devices[device.id].site.id
                raise document.error(
                    f"{where}.id", f"device {device.id!r} is also at site {other!r}"
                )
            profile = profiles.get(device.profile)
            if profile is None:
                known = ", ".join(sorted(profiles))
                raise document.error(
                    f"{where}.profile", f"no profile {device.profile!r}; profiles: {known}"
                )
            for item in range(len(device.collectors)):
                check_collector(document, f"{where}.collectors[{item}]")
            devices[device.id] = DevicePlacement(device, site, profile)
        sites[site.id] = site
    _check_services_are_not_devices(city_document, city, devices)
    return Inventory(root, city, profiles, sites, devices)


def _load_each(directory: Path, kind: type[T], check: Any) -> Iterator[tuple[str, T]]:
    for document, item in _documents(directory, kind):
        check(document, item)
        yield item.id, item


def _documents(directory: Path, kind: type[T]) -> Iterator[tuple[yamlconf.Document, T]]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise yamlconf.ConfigError(str(directory), "no files (*.yaml) found")
    for path in files:
        document = yamlconf.read(path)
        item = yamlconf.convert(document, kind)
        if path.stem != item.id:
            raise document.error("$.id", f"{item.id!r} must live in a file named {item.id}.yaml")
        yield document, item


def _check_city(document: yamlconf.Document, city: City) -> None:
    _check_timezone(document, "$.timezone", city.timezone)
    for kind in ("home", "facility"):
        if kind not in city.escalation:
            raise document.error("$.escalation", f"no default escalation chain for {kind} sites")
        _check_escalation(document, f"$.escalation.{kind}", city.escalation[kind])
    seen: set[str] = set()
    for index, service in enumerate(city.services):
        if service.id in seen:
            raise document.error(f"$.services[{index}].id", f"service {service.id!r} listed twice")
        seen.add(service.id)


def _check_profile(
    check_collector: CollectorCheck,
) -> Callable[[yamlconf.Document, DeviceProfile], None]:
    def check(document: yamlconf.Document, profile: DeviceProfile) -> None:
        for index in range(len(profile.collectors)):
            check_collector(document, f"$.collectors[{index}]")

    return check


def _check_site(document: yamlconf.Document, site: Site) -> None:
    _check_timezone(document, "$.timezone", site.timezone)
    if site.escalation is not None:
        _check_escalation(document, "$.escalation", site.escalation)
    if site.kind == "home" and (site.address is not None or site.location is not None):
        raise document.error(
            "$.address" if site.address is not None else "$.location",
            "a home keeps its address and location in the residents file, outside the "
            "repository (personal data)",
        )


def _check_timezone(document: yamlconf.Document, where: str, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise document.error(
            where, f"unknown time zone {name!r} (expected e.g. Asia/Tokyo)"
        ) from None


def _check_escalation(document: yamlconf.Document, where: str, chain: list[EscalationStep]) -> None:
    if not chain:
        raise document.error(where, "an escalation chain needs at least one step")
    for index in range(1, len(chain)):
        if chain[index].after_min < chain[index - 1].after_min:
            raise document.error(
                f"{where}[{index}].after_min",
                f"steps must not go back in time ({chain[index].after_min} after "
                f"{chain[index - 1].after_min} minutes)",
            )


def _check_services_are_not_devices(
    document: yamlconf.Document, city: City, devices: dict[str, DevicePlacement]
) -> None:
    # Broker ACL patterns use the username; a service named like a device would get
    # that device's topics.
    for index, service in enumerate(city.services):
        if service.id in devices:
            raise document.error(
                f"$.services[{index}].id", f"service {service.id!r} has the ID of a device"
            )


def _collector_name(config: dict[str, Any]) -> str:
    return str(config.get("name") or config.get("type"))
