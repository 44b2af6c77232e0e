"""`civic-iot dashboards`: generate the dashboards' JSON and Grafana's provisioning files."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dashboards = commands.add_parser("dashboards", help="Grafana dashboards").add_subparsers()
    generate = dashboards.add_parser(
        "generate", help="write dashboards/generated/ from the code (commit the result)"
    )
    generate.set_defaults(handler=_generate)
    provision = dashboards.add_parser(
        "provision", help="dashboards and Grafana provisioning files for a Grafana to read"
    )
    provision.add_argument("--files", type=Path, required=True, help="a directory to fill")
    provision.add_argument("--influx-url", default="http://127.0.0.1:8086")
    provision.set_defaults(handler=_provision)


def _generate(args: argparse.Namespace) -> int:
    from dashboards.generate import write_dashboards

    for path in write_dashboards():
        print(path)
    return 0


def _provision(args: argparse.Namespace) -> int:
    from dashboards.generate import provisioning_files, write_dashboards

    boards = args.files / "dashboards"
    written = write_dashboards(boards)
    for relative, text in provisioning_files(args.influx_url, boards.resolve()).items():
        path = args.files / "provisioning" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    print(f"{len(written)} files in {args.files}: point Grafana's paths.provisioning at "
          f"{args.files / 'provisioning'}")  # fmt: skip
    return 0
