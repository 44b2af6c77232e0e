"""`civic-iot fleet`: look at and steer devices over MQTT (IT)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.mqttlink import MqttConfig


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
