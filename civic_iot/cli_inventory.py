"""`civic-iot inventory` and `residents`: check the city as data (firmware-config, the
residents file) and say what is in it, without personal data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from civic_iot.paths import DEFAULT_INVENTORY


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
    rcheck.set_defaults(handler=_residents_check)


def _inventory_check(args: argparse.Namespace) -> int:
    from common.city.inventory import load_inventory
    from edge.collectors import collector_config

    inventory = load_inventory(args.dir, collector_config)
    for site in inventory.sites.values():
        print(f"{site.id:<16} {site.kind:<9} {site.name.ja} / {site.name.en}")
        for device in site.devices:
            print(f"  {device.id:<22} {device.profile}")
    print(f"{len(inventory.sites)} sites, {len(inventory.devices)} devices: OK")
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
    print(f"{len(directory.residents)} residents, {len(directory.staff)} staff contacts: OK")
    return 0
