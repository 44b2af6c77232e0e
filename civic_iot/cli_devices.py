"""`civic-iot devices`: list the gateway's device registry."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec

from civic_iot.devicetable import render
from common.yamlconf import ConfigError
from gateway.fleetstate import state_of
from wire import now_ms

DEFAULT_OFFLINE_AFTER_S = 300.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices = commands.add_parser(
        "devices", help="the device registry: state, last seen, versions, health, gaps"
    )
    where = devices.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path, help="the gateway's config file")
    where.add_argument("--registry", type=Path, help="a registry file (registry.sqlite3)")
    devices.add_argument("--site", help="only this site")
    devices.add_argument(
        "--state",
        choices=["online", "silent", "offline", "never-seen", "unknown"],
        help="only devices in this state",
    )
    devices.add_argument("--lang", choices=["en", "ja"], default=argparse.SUPPRESS,
                         help="as the global --lang")  # fmt: skip
    devices.add_argument("--json", action="store_true", help="the records as JSON")
    devices.set_defaults(handler=_devices)


def _devices(args: argparse.Namespace) -> int:
    from gateway import registry

    path, offline_after_s = _registry_path(args)
    if not path.exists():
        raise ConfigError(str(path), "no device registry here; the gateway creates it when it runs")
    now = now_ms()
    records = [
        record
        for record in registry.read(path)
        if (args.site is None or record.site == args.site)
        and (args.state is None or state_of(record, now, offline_after_s).value == args.state)
    ]
    if args.json:
        sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(records)) + b"\n")
    else:
        print(render(records, now, offline_after_s, args.lang))
    return 0


def _registry_path(args: argparse.Namespace) -> tuple[Path, float]:
    if args.registry is not None:
        return args.registry, DEFAULT_OFFLINE_AFTER_S
    from gateway import config

    gateway = config.load(args.config)
    return Path(gateway.state_dir) / "registry.sqlite3", gateway.offline_after_s
