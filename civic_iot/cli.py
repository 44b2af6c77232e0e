"""The one console script: ``civic-iot <command>``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from civic_iot import cli_alerts, cli_dashboards, cli_devices, cli_reports
from common.mqttlink import MqttConfig
from common.signals import stop_on_signals
from common.yamlconf import ConfigError
from gateway.errors import GatewayError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INVENTORY = REPO_ROOT / "firmware-config"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"civic-iot: configuration error: {exc}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"civic-iot: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civic-iot", description="Public Wi-Fi, watch-over and smart facilities for a city."
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    commands = parser.add_subparsers(title="commands")

    edge = commands.add_parser("edge", help="the agent on a Raspberry Pi").add_subparsers()
    run = edge.add_parser("run", help="run the agent until SIGTERM or Ctrl-C")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument(
        "--stand-ins",
        type=Path,
        help="JSON file naming hardware stand-ins (recorded BLE, mock GPIO, recorded Wi-Fi) "
        "for demos and tests on a machine without that hardware",
    )
    run.set_defaults(handler=_edge_run)
    check = edge.add_parser("check-config", help="validate an agent config and exit")
    check.add_argument("config", type=Path)
    check.set_defaults(handler=_edge_check)
    collect = edge.add_parser("collect", help="read every collector once and print the readings")
    collect.add_argument("--config", type=Path, required=True)
    collect.add_argument("--stand-ins", type=Path, help="as for 'edge run'")
    collect.set_defaults(handler=_edge_collect)

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

    cli_devices.add_parser(commands)
    cli_alerts.add_parser(commands)
    cli_reports.add_parser(commands)
    cli_dashboards.add_parser(commands)

    inventory = commands.add_parser("inventory", help="sites and devices").add_subparsers()
    icheck = inventory.add_parser("check", help="validate firmware-config and list its devices")
    icheck.add_argument("--dir", type=Path, default=DEFAULT_INVENTORY)
    icheck.set_defaults(handler=_inventory_check)

    _provision_parser(commands)
    _fleet_parser(commands)

    residents = commands.add_parser("residents", help="the residents file (personal data)")
    rcheck = residents.add_subparsers().add_parser(
        "check", help="validate the residents file against firmware-config"
    )
    rcheck.add_argument("--file", type=Path, default=Path("/etc/civic-iot/residents.yaml"))
    rcheck.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    rcheck.set_defaults(handler=_residents_check)

    demo = commands.add_parser("demo", help="a local stack with the example city's devices")
    demo.add_argument("--state-dir", type=Path, default=Path(".demo"))
    demo.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    demo.add_argument("--interval", type=float, default=5.0, help="seconds between readings")
    demo.add_argument("--duration", type=float, default=0.0, help="stop after N s (0: Ctrl-C)")
    demo.add_argument("--outage", type=float, default=10.0, help="seconds a home's Internet is cut")
    demo.set_defaults(handler=_demo)
    return parser


def _provision_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    provision.set_defaults(handler=_provision, action="all", device=None)
    actions = provision.add_subparsers(title="one device")
    rotate = actions.add_parser("rotate", help="new password, key and certificate for a device")
    rotate.add_argument("device")
    rotate.set_defaults(action="rotate")
    retire = actions.add_parser("retire", help="take a device out of service for good")
    retire.add_argument("device")
    retire.set_defaults(action="retire")


def _fleet_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fleet = commands.add_parser("fleet", help="look at and steer devices over MQTT (IT)")
    fleet.add_argument(
        "--mqtt",
        type=Path,
        help="MQTT settings file (JSON/YAML), e.g. the provisioned services/it-console/mqtt.json",
    )
    fleet.add_argument("--host", default="127.0.0.1")
    fleet.add_argument("--port", type=int, default=1883)
    actions = fleet.add_subparsers(title="actions")
    show = actions.add_parser("show", help="status, versions, health, desired vs reported config")
    show.add_argument("device")
    show.set_defaults(handler=_fleet_show)
    push = actions.add_parser("push-config", help="set a device's desired config and wait")
    push.add_argument("device")
    push.add_argument("file", type=Path, help="YAML with the remote part: collectors")
    push.add_argument("--version", type=int, help="default: the current desired version + 1")
    push.add_argument("--timeout", type=float, default=30.0)
    push.set_defaults(handler=_fleet_push)
    command = actions.add_parser("command", help="send a command and print the response")
    command.add_argument("device")
    command.add_argument("name", help="ping, collect-now, get-config, restart-agent")
    command.add_argument("--arg", action="append", default=[], help="KEY=VALUE, repeatable")
    command.add_argument("--timeout", type=float, default=10.0)
    command.set_defaults(handler=_fleet_command)


def _use_stand_ins(args: argparse.Namespace) -> None:
    if args.stand_ins is not None:
        from civic_iot import standins

        standins.install(args.stand_ins)


def _edge_run(args: argparse.Namespace) -> int:
    from edge import config
    from edge.agent import Agent

    _use_stand_ins(args)
    agent_config, collectors = config.load(args.config)
    stop = stop_on_signals()
    agent = Agent(agent_config, collectors)

    def wake_on_stop() -> None:
        stop.wait()
        agent.wake()

    threading.Thread(target=wake_on_stop, daemon=True).start()
    agent.run(stop)
    if agent.restart_requested:
        logging.getLogger("edge").warning("restarting the agent, as a command asked")
        os.execv(sys.executable, [sys.executable, "-m", "civic_iot", *sys.argv[1:]])  # noqa: S606
    return 0


def _edge_check(args: argparse.Namespace) -> int:
    from edge import config

    agent_config, collectors = config.load(args.config)
    names = ", ".join(f"{c.name} every {c.interval_s:g}s" for c in collectors)
    print(f"{args.config}: OK: device {agent_config.device_id}; collectors: {names}")
    return 0


def _edge_collect(args: argparse.Namespace) -> int:
    from edge import config
    from edge.collectors import close_collectors
    from wire import encode, now_ms

    _use_stand_ins(args)
    _, collectors = config.load(args.config)
    for collector in collectors:
        for reading in collector.collect(now_ms()):
            print(collector.name, encode(reading).decode())
    close_collectors(collectors)
    return 0


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
        inventory, args.state_dir, endpoint, args.broker_dir, broker_user=args.broker_user
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


def _fleet_mqtt(args: argparse.Namespace) -> MqttConfig:
    from common import yamlconf

    if args.mqtt is None:
        return MqttConfig(host=args.host, port=args.port)
    return yamlconf.load(args.mqtt, MqttConfig).relative_to(args.mqtt.parent)


def _fleet_show(args: argparse.Namespace) -> int:
    from civic_iot.fleetview import describe
    from civic_iot.terminal import printable
    from gateway.fleet import Fleet

    with Fleet(_fleet_mqtt(args)) as fleet:
        print(printable(describe(fleet.show(args.device)), keep_newlines=True))
    return 0


def _fleet_push(args: argparse.Namespace) -> int:
    from civic_iot.terminal import printable
    from common import yamlconf
    from gateway.fleet import Fleet, FleetError

    config = yamlconf.read(args.file).data
    try:
        with Fleet(_fleet_mqtt(args)) as fleet:
            report = fleet.push_config(args.device, config, args.version, args.timeout)
    except FleetError as exc:
        print(f"civic-iot fleet: {exc}", file=sys.stderr)
        return 1
    if report.state == "rejected":
        print(f"{args.device} rejected desired version {report.desired}: "
              f"{printable(report.error)}")  # fmt: skip
        print(f"it keeps running version {report.version}")
        return 1
    print(f"{args.device} applied desired version {report.desired}")
    return 0


def _fleet_command(args: argparse.Namespace) -> int:
    import json

    from civic_iot.terminal import printable
    from gateway.fleet import Fleet, FleetError

    command_args = dict(item.split("=", 1) for item in args.arg)
    try:
        with Fleet(_fleet_mqtt(args)) as fleet:
            response = fleet.command(args.device, args.name, command_args, args.timeout)
    except FleetError as exc:
        print(f"civic-iot fleet: {exc}", file=sys.stderr)
        return 1
    if not response.ok:
        print(f"{args.device}: {printable(response.error)}", file=sys.stderr)
        return 1
    text = json.dumps(response.result, indent=2, ensure_ascii=False)
    print(printable(text, keep_newlines=True))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from civic_iot.demo import run_demo

    return run_demo(args)
