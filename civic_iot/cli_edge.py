"""`civic-iot edge`: run the agent, check its config, read its collectors once."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from civic_iot.words import word
from common.signals import stop_on_signals


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _use_stand_ins(args: argparse.Namespace) -> None:
    if args.stand_ins is not None:
        from civic_iot import standins

        standins.install(args.stand_ins)


def _edge_run(args: argparse.Namespace) -> int:
    from edge import config, logbuffer
    from edge.agent import Agent

    _use_stand_ins(args)
    agent_config, collectors = config.load(args.config)
    stop = stop_on_signals()
    agent = Agent(agent_config, collectors, logbuffer.install())

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
    every = {c.name: word(args.lang, "every", seconds=f"{c.interval_s:g}") for c in collectors}
    names = ", ".join(f"{name} ({interval})" for name, interval in every.items())
    print(word(args.lang, "config-ok", path=args.config, device=agent_config.device_id,
               collectors=names))  # fmt: skip
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
