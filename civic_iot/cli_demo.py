"""`civic-iot demo`: the example city on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from civic_iot.paths import DEFAULT_INVENTORY


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="a local stack with the example city's devices")
    demo.add_argument("--state-dir", type=Path, default=Path(".demo"))
    demo.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    demo.add_argument("--interval", type=float, default=5.0, help="seconds between readings")
    demo.add_argument("--duration", type=float, default=0.0, help="stop after N s (0: Ctrl-C)")
    demo.add_argument("--outage", type=float, default=10.0, help="seconds a home's Internet is cut")
    demo.add_argument("--no-rollout", dest="rollout", action="store_false",
                      help="skip building releases and rolling one out to the homes")  # fmt: skip
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from civic_iot.demo import run_demo

    return run_demo(args)
