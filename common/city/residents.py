"""The residents file: who lives in each watch-over home and whom to tell.

This is personal data (names, addresses, phone numbers, e-mail, LINE user IDs), so it
lives outside the repository (by default /etc/civic-iot/residents.yaml, 0600) and
everything else refers to residents by pseudonymous IDs (``r-a001``) and to homes by
site IDs. The example city ships a fictitious file in examples/.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from common import yamlconf
from common.city.inventory import Inventory
from common.city.model import Id, Role
from common.strict import Strict
from common.yamlconf import ConfigError

DEFAULT_PATH = Path("/etc/civic-iot/residents.yaml")
ResidentId = Annotated[str, msgspec.Meta(pattern=r"^r-[a-z0-9-]{1,32}$")]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]
# LINE Messaging API user IDs: "U" and 32 hex digits.
LineUserId = Annotated[str, msgspec.Meta(pattern=r"^U[0-9a-f]{32}$")]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$")]  # E.164
Language = Literal["ja", "en"]
RESIDENT_ROLES = frozenset({"family", "neighbour", "care-manager"})


HhMmTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class Contact(Strict):
    role: Role
    name: str
    # A stable, pseudonymous ID for reports and replays; default "<resident>/<role>"
    # ("staff/<role>" for staff), with "-2", "-3"... for a second holder of the role.
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9/_.-]{0,63}$")] | None = None
    language: Language = "ja"
    email: Email | None = None
    line_user_id: LineUserId | None = None
    phone: Phone | None = None
    # Opt-in: a daily message at this local time saying how the day went so far
    # (「今日も 06:32 に起床、室温 21℃、通知はありません」), or what was unusual.
    daily: HhMmTime | None = None

    @property
    def channels(self) -> list[str]:
        present = {"email": self.email, "line": self.line_user_id, "phone": self.phone}
        return [name for name, value in present.items() if value]


HhMm = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
HhMmWindow = Annotated[
    str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
]


class Watch(Strict):
    """This resident's own watch-over settings, replacing the rules' defaults."""

    # No sign of activity for this long is an alert (a frail resident: 6).
    inactivity_hours: Annotated[float, msgspec.Meta(gt=0, le=72)] | None = None
    # When the entrance opening counts as a night exit (an early riser: "22:00-05:00").
    night: HhMmWindow | None = None
    # By when they are usually up ("10:00").
    wake_up_by: HhMm | None = None


class Resident(Strict):
    id: ResidentId
    site: Id
    name: str
    contacts: list[Contact]
    watch: Watch = msgspec.field(default_factory=Watch)
    language: Language = "ja"
    address: str | None = None
    birth_year: Annotated[int, msgspec.Meta(ge=1900, le=2100)] | None = None


class Staff(Contact):
    """Facility or municipal staff; ``site`` empty means city-wide."""

    site: Id | None = None


class ResidentsFile(Strict):
    residents: list[Resident]
    staff: list[Staff] = msgspec.field(default_factory=list)


@dataclass
class Directory:
    residents: dict[str, Resident]
    staff: list[Staff]
    warnings: list[str] = field(default_factory=list)
    _ids: dict[int, str] = field(default_factory=dict)

    def contact_id(self, contact: Contact) -> str:
        """The contact's ID: its own, or derived from resident (or staff) and role."""
        if contact.id:
            return contact.id
        if not self._ids:
            self._derive_ids()
        return self._ids.get(id(contact), f"contact/{contact.role}")

    def _derive_ids(self) -> None:
        taken: dict[str, int] = {}
        holders = [(r.id, c) for r in self.residents.values() for c in r.contacts]
        holders += [("staff", s) for s in self.staff]
        for owner, contact in holders:
            base = f"{owner}/{contact.role}"
            taken[base] = taken.get(base, 0) + 1
            self._ids[id(contact)] = base if taken[base] == 1 else f"{base}-{taken[base]}"

    def contacts(self, site_id: str, role: str) -> list[Contact]:
        """Who holds ``role`` for a site: its residents' contacts, then staff."""
        found: list[Contact] = [
            contact
            for resident in self.residents.values()
            if resident.site == site_id
            for contact in resident.contacts
            if contact.role == role
        ]
        found += [s for s in self.staff if s.role == role and s.site in (site_id, None)]
        return found


def load_residents(path: Path, inventory: Inventory, *, strict_mode: bool = True) -> Directory:
    """Read and cross-check the residents file against the sites; ConfigError if wrong.
    A file others can write is refused (``strict_mode``) or only warned about (a replay
    on a copy, which sends nothing)."""
    document = yamlconf.read(path)
    data = yamlconf.convert(document, ResidentsFile)
    directory = Directory({}, data.staff)
    for index, resident in enumerate(data.residents):
        _check_resident(document, f"$.residents[{index}]", resident, inventory, directory)
        directory.residents[resident.id] = resident
    for index, staff in enumerate(data.staff):
        _check_channels(document, f"$.staff[{index}]", staff)
        if staff.site is not None and staff.site not in inventory.sites:
            raise document.error(f"$.staff[{index}].site", f"no site {staff.site!r}")
    _check_escalation_reaches_someone(document, inventory, directory)
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and strict_mode:
        raise ConfigError(
            str(path), f"writable by others (mode {stat.filemode(mode)}): anyone could "
            f"redirect residents' alerts; chmod 600 {path}",
        )  # fmt: skip
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        directory.warnings.append(
            f"{path} is readable by others; it holds personal data: chmod 600 {path}"
        )
    return directory


def _check_resident(
    document: yamlconf.Document,
    where: str,
    resident: Resident,
    inventory: Inventory,
    directory: Directory,
) -> None:
    if resident.id in directory.residents:
        raise document.error(f"{where}.id", f"resident {resident.id!r} is listed twice")
    site = inventory.sites.get(resident.site)
    if site is None or site.kind != "home":
        raise document.error(f"{where}.site", f"{resident.site!r} is not a home in firmware-config")
    for index, contact in enumerate(resident.contacts):
        _check_channels(document, f"{where}.contacts[{index}]", contact)
        if contact.role not in RESIDENT_ROLES:
            raise document.error(
                f"{where}.contacts[{index}].role",
                f"{contact.role!r} is a staff role; list staff under 'staff'",
            )


def _check_channels(document: yamlconf.Document, where: str, contact: Contact) -> None:
    if not contact.channels:
        raise document.error(where, "a contact needs at least one of email, line_user_id, phone")


def _check_escalation_reaches_someone(
    document: yamlconf.Document, inventory: Inventory, directory: Directory
) -> None:
    housed = {resident.site for resident in directory.residents.values()}
    for site in inventory.sites.values():
        if site.kind == "home" and site.id not in housed:
            raise document.error("$.residents", f"home {site.id!r} has no resident")
        for step in inventory.escalation(site):
            if not directory.contacts(site.id, step.role):
                raise document.error(
                    "$", f"nobody holds role {step.role!r} for site {site.id!r} (escalation chain)"
                )
