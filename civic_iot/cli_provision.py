"""`civic-iot provision`: broker config, credentials, certificates and device bundles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from civic_iot.paths import DEFAULT_INVENTORY


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    provision = commands.add_parser(
        "provision",
        help="render broker config, credentials, certificates and device bundles",
        description="Writes everything under --state-dir (secrets 0600); safe to run again.",
    )
    provision.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    provision.add_argument("--state-dir", type=Path, default=Path(".state/provision"))
    provision.add_argument("--broker-host", help="override city.yaml broker.host")
    provision.add_argument("--broker-port", type=int, help="override city.yaml broker.port")
    provision.add_argument("--local-port", type=int, help="override city.yaml broker.local_port")
    provision.add_argument("--listen-address", default="", help="bind the TLS listener here")
    provision.add_argument(
        "--broker-dir", type=Path, help="where the broker's files will live on its host"
    )
    provision.add_argument("--broker-user", default="mosquitto", help="the broker's Unix user")
    provision.add_argument("--release-url", default="",
                           help="where devices fetch signed releases (https://…/releases); "
                           "default: only a release the bundle carries")  # fmt: skip
    provision.set_defaults(handler=_provision, action="all", device=None)
    actions = provision.add_subparsers(title="one device")
    rotate = actions.add_parser("rotate", help="new password, key and certificate for a device")
    rotate.add_argument("device")
    rotate.set_defaults(action="rotate")
    retire = actions.add_parser("retire", help="take a device out of service for good")
    retire.add_argument("device")
    retire.set_defaults(action="retire")


def _provision(args: argparse.Namespace) -> int:
    from common.city.inventory import load_inventory
    from edge.collectors import collector_config
    from provisioning.provision import Endpoint, Provisioner, ProvisionError

    inventory = load_inventory(args.inventory, collector_config)
    broker = inventory.city.broker
    endpoint = Endpoint(
        args.broker_host or broker.host,
        args.broker_port or broker.port,
        args.local_port or broker.local_port,
        args.listen_address,
    )
    provisioner = Provisioner(
        inventory,
        args.state_dir,
        endpoint,
        args.broker_dir,
        broker_user=args.broker_user,
        release_url=args.release_url,
    )
    try:
        if args.action == "rotate":
            report = provisioner.rotate(args.device)
        elif args.action == "retire":
            report = provisioner.retire(args.device)
        else:
            report = provisioner.provision()
    except ProvisionError as exc:
        print(f"civic-iot provision: {exc}", file=sys.stderr)
        return 2
    for path in report.written:
        print(f"wrote {path}")
    for note in report.notes:
        print(note)
    print(f"{len(report.written)} files changed in {args.state_dir}")
    return 0
