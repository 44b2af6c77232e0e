"""`civic-iot backup` and `civic-iot restore`: every stateful piece of the servers in
one archive: the gateway's registry and spool, the alerts store and its link secret,
provisioning's state (PKI, passwords, the release key, bundles) and the releases."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.backup import BackupError, Part, backup, restore


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser("backup", help="back up the servers' state into one archive")
    _where(backup)
    backup.add_argument("--out", type=Path, required=True, help="the archive (.tar.gz, 0600)")
    backup.set_defaults(handler=_backup)
    restore = commands.add_parser(
        "restore", help="put a backup back, into the directories the configs name"
    )
    restore.add_argument("archive", type=Path)
    _where(restore)
    restore.add_argument("--force", action="store_true",
                         help="write into directories that already hold files")  # fmt: skip
    restore.set_defaults(handler=_restore)


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gateway-config", type=Path, help="the gateway's config")
    parser.add_argument("--alerts-config", type=Path, help="the alerts service's config")
    parser.add_argument("--provision-dir", type=Path, help="provisioning's state directory")
    parser.add_argument("--releases", type=Path, help="the city's release directory")


def _parts(args: argparse.Namespace) -> list[Part]:
    parts = []
    if args.gateway_config:
        from gateway import config as gateway_config

        parts.append(Part("gateway", Path(gateway_config.load(args.gateway_config).state_dir)))
    if args.alerts_config:
        from alerts import config as alerts_config

        parts.append(Part("alerts", Path(alerts_config.load(args.alerts_config).state_dir)))
    if args.provision_dir:
        parts.append(Part("provision", args.provision_dir))
    if args.releases:
        parts.append(Part("releases", args.releases))
    return parts


def _backup(args: argparse.Namespace) -> int:
    from common import __version__

    parts = _parts(args)
    if not parts:
        print("civic-iot backup: name at least one of --gateway-config, --alerts-config, "
              "--provision-dir, --releases", file=sys.stderr)  # fmt: skip
        return 2
    try:
        counts = backup(parts, args.out, __version__)
    except (BackupError, OSError) as exc:
        print(f"civic-iot backup: {exc}", file=sys.stderr)
        return 1
    listed = ", ".join(f"{name} {count} files" for name, count in counts.items())
    print(f"{args.out}: {listed}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    parts = _parts(args)
    if not parts:
        print("civic-iot restore: name where to restore: --gateway-config, --alerts-config, "
              "--provision-dir, --releases", file=sys.stderr)  # fmt: skip
        return 2
    try:
        counts = restore(args.archive, parts, force=args.force)
    except (BackupError, OSError) as exc:
        print(f"civic-iot restore: {exc}", file=sys.stderr)
        return 1
    listed = ", ".join(f"{name} {count} files" for name, count in counts.items())
    print(f"restored from {args.archive}: {listed}")
    return 0
