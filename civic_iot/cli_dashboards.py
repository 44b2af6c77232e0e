"""`civic-iot dashboards`: generate the dashboards' JSON; provision a Grafana, through its
HTTP API or through provisioning files."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dashboards = commands.add_parser("dashboards", help="Grafana dashboards").add_subparsers()
    generate = dashboards.add_parser(
        "generate", help="write dashboards/generated/ from the code (commit the result)"
    )
    generate.set_defaults(handler=_generate)
    provision = dashboards.add_parser(
        "provision",
        help="put the dashboards into a Grafana: through its API (--grafana) with folders, "
        "teams and folder permissions, or as provisioning files (--files)",
    )
    target = provision.add_mutually_exclusive_group(required=True)
    target.add_argument("--grafana", metavar="URL", help="a Grafana to provision through its API")
    target.add_argument("--files", type=Path, help="a directory to fill with provisioning files")
    provision.add_argument(
        "--token-file", type=Path,
        help="file holding a Grafana service-account token (or set GRAFANA_TOKEN)",
    )  # fmt: skip
    provision.add_argument("--influx-url", default="http://127.0.0.1:8086",
                           help="InfluxDB as Grafana reaches it")  # fmt: skip
    provision.add_argument(
        "--influx-user", default="", help="InfluxDB user for Grafana (read only)"
    )
    provision.add_argument("--influx-password-file", type=Path)
    provision.set_defaults(handler=_provision)


def _generate(args: argparse.Namespace) -> int:
    from dashboards.generate import write_dashboards

    for path in write_dashboards():
        print(path)
    return 0


def _provision(args: argparse.Namespace) -> int:
    if args.files is not None:
        return _provision_files(args)
    from dashboards.errors import DashboardsError
    from dashboards.grafana_api import GrafanaProvisioner, InfluxAccess

    try:
        token = _secret(args.token_file) if args.token_file else os.environ.get("GRAFANA_TOKEN")
        password = _secret(args.influx_password_file) if args.influx_password_file else ""
        grafana = GrafanaProvisioner.connect(args.grafana, token, print)
        grafana.provision(InfluxAccess(args.influx_url, args.influx_user, password))
    except DashboardsError as exc:
        print(f"civic-iot: {exc}", file=sys.stderr)
        return 1
    print("Grafana is provisioned: add people to the teams civic-caregivers, "
          "civic-facility-staff and civic-it")  # fmt: skip
    return 0


def _secret(path: Path) -> str:
    from dashboards.errors import DashboardsError

    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DashboardsError(f"cannot read {path}: {exc.strerror}") from exc


def _provision_files(args: argparse.Namespace) -> int:
    from dashboards.generate import write_provisioning

    written = write_provisioning(args.files, args.influx_url)
    print(f"{len(written)} files in {args.files}: point Grafana's paths.provisioning at "
          f"{args.files / 'provisioning'}")  # fmt: skip
    return 0
