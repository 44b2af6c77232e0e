"""`civic-iot inventory` and `residents`: check the city as data (firmware-config, the
residents file) and say what is in it, without personal data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from civic_iot.paths import DEFAULT_INVENTORY
from civic_iot.words import word

if TYPE_CHECKING:
    from common.city.inventory import Inventory
    from common.city.residents import Directory


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    inventory = commands.add_parser("inventory", help="sites and devices").add_subparsers()
    icheck = inventory.add_parser("check", help="validate firmware-config and list its devices")
    icheck.add_argument("--dir", type=Path, default=DEFAULT_INVENTORY)
    icheck.set_defaults(handler=_inventory_check)

    residents = commands.add_parser("residents", help="the residents file (personal data)")
    rcheck = residents.add_subparsers().add_parser(
        "check", help="validate the residents file against firmware-config"
    )
    rcheck.add_argument("--file", type=Path, default=Path("/etc/civic-iot/residents.yaml"))
    rcheck.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    rcheck.add_argument(
        "--alerts-config", type=Path,
        help="the alerts service's config: check every step against the channels it has "
        "(without it: against any way of reaching a contact)",
    )  # fmt: skip
    rcheck.set_defaults(handler=_residents_check)


def _inventory_check(args: argparse.Namespace) -> int:
    from common.city.inventory import load_inventory
    from edge.collectors import collector_config

    inventory = load_inventory(args.dir, collector_config)
    for site in inventory.sites.values():
        print(f"{site.id:<16} {site.kind:<9} {site.name.ja} / {site.name.en}")
        for device in site.devices:
            print(f"  {device.id:<22} {device.profile}")
    print(word(args.lang, "inventory-ok", sites=len(inventory.sites),
               devices=len(inventory.devices)))  # fmt: skip
    return 0


def _residents_check(args: argparse.Namespace) -> int:
    from common.city.inventory import load_inventory
    from common.city.residents import load_residents

    inventory = load_inventory(args.inventory)
    directory = load_residents(args.file, inventory)
    # Pseudonymous IDs and counts only: this output may end up in a ticket or a log.
    for site in inventory.sites.values():
        chain = " -> ".join(
            f"{step.role}({len(directory.contacts(site.id, step.role))})"
            for step in inventory.escalation(site)
        )
        housed = sorted(r.id for r in directory.residents.values() if r.site == site.id)
        print(f"{site.id:<20} {','.join(housed) or '-':<12} {chain}")
    for warning in directory.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    gaps = _unreachable_steps(inventory, directory, _channels(args.alerts_config))
    for gap in gaps:
        print(f"error: {gap}", file=sys.stderr)
    if gaps:
        print(f"{len(gaps)} step(s) of the escalation chains reach nobody", file=sys.stderr)
        return 1
    print(word(args.lang, "residents-ok", residents=len(directory.residents),
               staff=len(directory.staff)))  # fmt: skip
    return 0


def _channels(alerts_config: Path | None) -> set[str]:
    """The ways the city can reach a contact (email, line, phone)."""
    if alerts_config is None:
        return {"email", "line", "phone"}
    from alerts import config
    from alerts.routing import Router
    from common.city.inventory import load_inventory
    from common.city.residents import Directory

    loaded = config.load(alerts_config)
    empty = Directory({}, [])
    return Router(loaded, load_inventory(Path(loaded.inventory)), empty).configured_channels()


def _unreachable_steps(inventory: Inventory, directory: Directory, channels: set[str]) -> list[str]:
    """Each step of each site's chain that no contact can be reached on: pseudonymous
    (site, step, role, and what its contacts have), never names or numbers."""
    gaps = []
    for site in inventory.sites.values():
        for index, step in enumerate(inventory.escalation(site)):
            contacts = directory.contacts(site.id, step.role)
            if any(set(contact.channels) & channels for contact in contacts):
                continue
            have = sorted({way for contact in contacts for way in contact.channels})
            why = (f"its contacts have only {', '.join(have)}" if contacts
                   else "nobody holds that role")  # fmt: skip
            city = ", ".join(sorted(channels)) or "none"
            gaps.append(f"{site.id} step {index} ({step.role}) reaches nobody: {why}; "
                        f"the city's channels: {city}")  # fmt: skip
    return gaps
