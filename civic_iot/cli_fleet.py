"""`civic-iot fleet`: look at and steer devices over MQTT (IT)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from civic_iot import cli_rollout
from civic_iot.paths import DEFAULT_INVENTORY
from common.mqttlink import MqttConfig


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fleet = commands.add_parser("fleet", help="look at and steer devices over MQTT (IT)")
    fleet.add_argument(
        "--mqtt",
        type=Path,
        help="MQTT settings file (JSON/YAML), e.g. the provisioned services/it-console/mqtt.json",
    )
    fleet.add_argument("--host", help="a broker without an MQTT settings file (with --port)")
    fleet.add_argument("--port", type=int, help="with --host")
    actions = fleet.add_subparsers(title="actions")
    fleet.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY,
                       help="firmware-config, for --group")  # fmt: skip
    show = actions.add_parser("show", help="status, versions, health, desired vs reported config")
    show.add_argument("device", nargs="?")
    show.add_argument("--group", help="a table of a group instead, e.g. kind:home")
    show.set_defaults(handler=_with_broker(_fleet_show))
    push = actions.add_parser("push-config", help="set a device's desired config and wait")
    push.add_argument("target", nargs="+", metavar="[DEVICE] FILE",
                      help="the device (or --group) and the YAML with the remote part: "
                      "collectors")  # fmt: skip
    push.add_argument("--group", help="every device of a group, e.g. profile:wifi-probe")
    push.add_argument("--version", type=int, help="default: the current desired version + 1")
    push.add_argument("--timeout", type=float, default=30.0)
    push.set_defaults(handler=_with_broker(_fleet_push))
    command = actions.add_parser("command", help="send a command and print the response")
    command.add_argument("target", nargs="+", metavar="[DEVICE] NAME",
                         help="the device (or --group) and the command: ping, collect-now, "
                         "get-config, restart-agent, logs, diag")  # fmt: skip
    command.add_argument("--group", help="every device of a group, e.g. profile:wifi-probe")
    command.add_argument("--arg", action="append", default=[], help="KEY=VALUE, repeatable")
    command.add_argument("--timeout", type=float, default=10.0)
    command.set_defaults(handler=_with_broker(_fleet_command))
    logs = actions.add_parser("logs", help="a device's recent log, personal data taken out")
    logs.add_argument("device")
    logs.add_argument("--since-min", type=float, default=60.0, help="minutes back (default 60)")
    logs.add_argument("--timeout", type=float, default=10.0)
    logs.set_defaults(handler=_with_broker(_fleet_logs))
    diag = actions.add_parser("diag", help="a device's diagnostics: versions, broker, "
                              "collectors, what fails, outbox, release, recent log")  # fmt: skip
    diag.add_argument("device")
    diag.add_argument("--timeout", type=float, default=10.0)
    diag.set_defaults(handler=_with_broker(_fleet_diag))
    cli_rollout.add_parser(actions)


MQTT_ENV = "CIVIC_IOT_MQTT"


class NoBrokerError(Exception):
    """IT named no broker: never guess one (a broker on 127.0.0.1:1883 may be another)."""


def _fleet_mqtt(args: argparse.Namespace) -> MqttConfig:
    from common import yamlconf

    settings = args.mqtt or (Path(os.environ[MQTT_ENV]) if os.environ.get(MQTT_ENV) else None)
    if settings is not None:
        return yamlconf.load(settings, MqttConfig).relative_to(settings.parent)
    if args.host and args.port:
        return MqttConfig(host=args.host, port=args.port)
    raise NoBrokerError(
        "civic-iot fleet: no broker account given: pass --mqtt with IT's MQTT settings "
        f"(services/it-console/mqtt.json from `civic-iot provision`), set {MQTT_ENV} to "
        "that file, or name a broker with --host and --port"
    )


def _with_broker(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """``handler`` with ``args.broker`` set, or a clear refusal when none is named."""

    def run(args: argparse.Namespace) -> int:
        try:
            args.broker = _fleet_mqtt(args)
        except NoBrokerError as exc:
            print(exc, file=sys.stderr)
            return 2
        return handler(args)

    return run


def _group(args: argparse.Namespace) -> list[str]:
    from common.city.groups import GroupError, select
    from common.city.inventory import load_inventory

    try:
        return select(load_inventory(args.inventory), args.group)
    except GroupError as exc:
        raise SystemExit(f"civic-iot fleet: {exc}") from None


def _fleet_show(args: argparse.Namespace) -> int:
    from civic_iot.fleetview import describe, group_table
    from civic_iot.terminal import printable
    from gateway.fleet import Fleet

    if (args.device is None) == (args.group is None):
        raise SystemExit("civic-iot fleet show: name a device or a --group, not both")
    with Fleet(args.broker) as fleet:
        if args.group:
            print(group_table(fleet.retained_many(_group(args))))
        else:
            print(printable(describe(fleet.show(args.device)), keep_newlines=True))
    return 0


def _fleet_push(args: argparse.Namespace) -> int:
    from civic_iot.terminal import printable
    from common import yamlconf
    from edge.remote import check_document
    from gateway.fleet import Fleet, FleetError

    if len(args.target) != (1 if args.group else 2):
        raise SystemExit("civic-iot fleet push-config: DEVICE FILE, or --group G FILE")
    file = Path(args.target[-1])
    devices = _group(args) if args.group else [args.target[0]]
    config = check_document(yamlconf.read(file)).data  # nothing sent if it is wrong
    failed = 0
    with Fleet(args.broker) as fleet:
        for device in devices:
            try:
                report = fleet.push_config(device, config, args.version, args.timeout)
            except FleetError as exc:
                print(f"{device}: {exc}")
                failed += 1
                continue
            if report.state == "rejected":
                print(f"{device} rejected desired version {report.desired}: "
                      f"{printable(report.error)}")  # fmt: skip
                print(f"it keeps running version {report.version}")
                failed += 1
            else:
                print(f"{device} applied desired version {report.desired}")
    if len(devices) > 1:
        print(f"{len(devices) - failed} of {len(devices)} devices applied it")
    return 1 if failed else 0


def _fleet_command(args: argparse.Namespace) -> int:
    import json

    from civic_iot.terminal import printable
    from gateway.fleet import Fleet, FleetError

    if len(args.target) != (1 if args.group else 2):
        raise SystemExit("civic-iot fleet command: DEVICE NAME, or --group G NAME")
    name = args.target[-1]
    devices = _group(args) if args.group else [args.target[0]]
    command_args = dict(item.split("=", 1) for item in args.arg)
    failed = 0
    with Fleet(args.broker) as fleet:
        for device in devices:
            try:
                response = fleet.command(device, name, command_args, args.timeout)
            except FleetError as exc:
                print(f"civic-iot fleet: {exc}", file=sys.stderr)
                failed += 1
                continue
            if not response.ok:
                print(f"{device}: {printable(response.error)}", file=sys.stderr)
                failed += 1
                continue
            text = json.dumps(response.result, indent=2, ensure_ascii=False)
            prefix = f"{device}: " if args.group else ""
            print(prefix + printable(text, keep_newlines=True))
    if args.group:
        print(f"{len(devices) - failed} of {len(devices)} devices answered")
    return 1 if failed else 0


def _ask(args: argparse.Namespace, name: str, command_args: dict[str, object]) -> object:
    from civic_iot.terminal import printable
    from gateway.fleet import Fleet, FleetError

    try:
        with Fleet(args.broker) as fleet:
            response = fleet.command(args.device, name, command_args, args.timeout)
    except FleetError as exc:
        raise SystemExit(f"civic-iot fleet: {exc}") from None
    if not response.ok:
        raise SystemExit(f"{args.device}: {printable(response.error)}")
    return response.result


def _fleet_logs(args: argparse.Namespace) -> int:
    from civic_iot.terminal import printable

    result = _ask(args, "logs", {"since_min": args.since_min})
    lines = result.get("lines", []) if isinstance(result, dict) else []
    print(printable("\n".join(str(line) for line in lines), keep_newlines=True))
    return 0


def _fleet_diag(args: argparse.Namespace) -> int:
    import yaml

    from civic_iot.terminal import printable

    result = _ask(args, "diag", {})
    text = yaml.safe_dump(result, allow_unicode=True, sort_keys=False, width=100)
    print(printable(text, keep_newlines=True))
    return 0
