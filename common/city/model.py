"""What firmware-config/ holds: the city, its sites, devices and device profiles.

Everything here is checked strictly at load (unknown keys refused) and holds no
personal data: homes are pseudonymous IDs; residents and contacts live in the
residents file outside the repository (common/city/residents.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from common.strict import Strict
from wire import Zone, topics

Id = Annotated[str, msgspec.Meta(pattern=topics.DEVICE_ID_PATTERN.pattern)]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Role = Literal["family", "neighbour", "care-manager", "facility-staff", "municipal-staff", "it"]
SiteKind = Literal["facility", "home"]
# What `civic-iot demo` can simulate; the edge's simulated collector takes the same.
SimKind = Literal["wifi", "climate", "door", "motion", "energy"]


class Name(Strict):
    ja: str
    en: str


class Location(Strict):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class EscalationStep(Strict):
    """Who is told, and how many minutes after the alert fired if nobody acknowledged."""

    role: Role
    after_min: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] = 0


class Broker(Strict):
    host: str  # the name devices connect to; it is in the server certificate
    port: Port = 8883  # TLS listener for devices
    local_port: Port = 1883  # loopback listener for services on the broker host
    client_certificates: Literal["required", "optional"] = "required"


class ServiceAccount(Strict):
    """A broker account for a server-side service; its ACL follows from its role."""

    id: Id
    # it: the console (reads everything, sets config, sends commands, acknowledges);
    # monitor: unattended monitoring, reads only.
    role: Literal["gateway", "alerts", "it", "monitor"]


class City(Strict):
    name: Name
    broker: Broker
    services: list[ServiceAccount]
    escalation: dict[SiteKind, list[EscalationStep]]
    timezone: str = "Asia/Tokyo"
    # 全国地方公共団体コード (six digits) and prefecture, for open data.
    code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")] | None = None
    prefecture: str | None = None


class PublicWifi(Strict):
    """A facility's public Wi-Fi as published in the open-data AP list."""

    ssid: str
    area: str = ""  # 提供エリア, e.g. 館内
    name_kana: str = ""  # 名称_カナ
    phone: str = ""
    url: str = ""
    note: str = ""


class DeviceProfile(Strict):
    """What a kind of device runs; devices inherit it and may add or replace collectors."""

    id: Id
    name: Name
    collectors: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1)]
    # What `civic-iot demo` simulates for a device of this profile.
    simulate: list[SimKind] = msgspec.field(default_factory=list)


class Device(Strict):
    id: Id
    profile: Id
    description: str = ""
    # Collector configs merged over the profile's by name (the type when unnamed).
    collectors: list[dict[str, Any]] = msgspec.field(default_factory=list)


class Site(Strict):
    id: Id
    kind: SiteKind
    name: Name
    devices: list[Device]
    timezone: str = "Asia/Tokyo"
    location: Location | None = None
    address: str | None = None
    # Overrides the city's default chain for this kind of site.
    escalation: list[EscalationStep] | None = None
    public_wifi: PublicWifi | None = None
    # For groups of devices (`--group district:潮見`, `--group tag:pilot`): rollouts and
    # bulk changes by IT.
    district: str = ""
    tags: list[Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$")]] = msgspec.field(
        default_factory=list
    )

    @property
    def zone(self) -> Zone:
        return Zone.WATCH_OVER if self.kind == "home" else Zone.FACILITY
