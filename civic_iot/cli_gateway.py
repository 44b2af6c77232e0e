"""`civic-iot gateway`: run the ingest, set up the storage, print the schema."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.signals import stop_on_signals


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateway = commands.add_parser("gateway", help="MQTT to InfluxDB ingest").add_subparsers()
    grun = gateway.add_parser("run", help="run the gateway until SIGTERM or Ctrl-C")
    grun.add_argument("--config", type=Path, required=True)
    grun.set_defaults(handler=_gateway_run)
    setup = gateway.add_parser(
        "setup", help="create databases/buckets, retention and hourly roll-ups (idempotent)"
    )
    setup.add_argument("--config", type=Path, required=True)
    setup.set_defaults(handler=_gateway_setup)
    schema = gateway.add_parser("schema", help="print the InfluxDB schema as a Markdown table")
    schema.set_defaults(handler=_gateway_schema)


def _gateway_run(args: argparse.Namespace) -> int:
    from common.city.inventory import load_inventory
    from gateway import config
    from gateway.ingest import Ingest

    gateway_config = config.load(args.config)
    inventory = load_inventory(Path(gateway_config.inventory))
    stop = stop_on_signals()
    Ingest(gateway_config, inventory, config.make_writer(gateway_config.influx)).run(stop)
    return 0


def _gateway_setup(args: argparse.Namespace) -> int:
    from gateway import config, retention

    influx = config.load(args.config).influx
    writer = config.make_writer(influx)
    try:
        for line in writer.set_up(retention.plan(influx.databases, influx.retention)):
            print(line)
    finally:
        writer.close()
    return 0


def _gateway_schema(args: argparse.Namespace) -> int:
    from gateway.schema import markdown_table

    print(markdown_table())
    return 0
