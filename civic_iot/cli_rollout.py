"""`civic-iot fleet rollout`: staged agent rollouts, kept in the gateway's registry and
driven by the gateway (gateway/rollout.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rollout = actions.add_parser("rollout", help="staged rollouts of an agent release")
    steps = rollout.add_subparsers(title="rollout")
    start = steps.add_parser("start", help="start a rollout: a canary, then waves")
    start.add_argument("version", help="a release built with `civic-iot release build`")
    _config(start)
    start.add_argument("--group", default="all", help="which devices, e.g. kind:home, "
                       "district:潮見, tag:pilot (default: all)")  # fmt: skip
    start.add_argument("--canary", default="5%", help="the first wave (default 5%%)")
    start.add_argument("--waves", default="25%,100%",
                       help="the next waves, cumulative (default 25%%,100%%)")  # fmt: skip
    start.add_argument("--max-failures", default="10%",
                       help="pause past this share of failed devices (default 10%%)")  # fmt: skip
    start.add_argument("--source", help="the release directory devices fetch from "
                       "(default: rollouts.source in the gateway's config)")  # fmt: skip
    start.set_defaults(handler=_start)
    for name, text in (
        ("status", "per wave: done, failed, pending"),
        ("pause", "send no further waves"),
        ("resume", "go on after a pause"),
        ("abort", "stop; devices not yet updated are no longer asked to"),
    ):
        step = steps.add_parser(name, help=text)
        step.add_argument("rollout", nargs="?", help="its ID (default: the latest)")
        _config(step)
        step.set_defaults(handler=_show if name == "status" else _change, change=name)


def _config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the gateway's config file")


def _percent(text: str, option: str) -> float:
    try:
        value = float(text.strip().removesuffix("%")) / 100
    except ValueError:
        raise SystemExit(
            f"civic-iot fleet rollout: {option}: expected e.g. 10%, found {text!r}"
        ) from None
    return value


def _start(args: argparse.Namespace) -> int:
    from common.city.groups import GroupError, select
    from common.city.inventory import load_inventory
    from gateway import config, registry_db, rollout

    gateway = config.load(args.config)
    source = args.source or gateway.rollouts.source
    if not source:
        print("civic-iot fleet rollout: no release source: pass --source or set "
              f"rollouts.source in {args.config}", file=sys.stderr)  # fmt: skip
        return 2
    if "://" not in source and not (Path(source) / args.version / "manifest.json").exists():
        print(f"civic-iot fleet rollout: {source} has no release {args.version} "
              "(civic-iot release build)", file=sys.stderr)  # fmt: skip
        return 2
    inventory = load_inventory(Path(gateway.inventory))
    try:
        devices = select(inventory, args.group)
        waves = [_percent(w, "--waves") for w in args.waves.split(",")]
        started = rollout.new_rollout(
            args.version, source, args.group, devices, canary=_percent(args.canary, "--canary"),
            waves=waves, max_failures=_percent(args.max_failures, "--max-failures"),
            deadline_s=gateway.rollouts.deadline_s, home_window=gateway.rollouts.home_window,
        )  # fmt: skip
    except (GroupError, rollout.RolloutError) as exc:
        print(f"civic-iot fleet rollout: {exc}", file=sys.stderr)
        return 2
    db = registry_db.connect(Path(gateway.state_dir) / "registry.sqlite3")
    rollout.save(db, started)
    sizes = " → ".join(str(len(wave)) for wave in started.plan)
    print(f"rollout {started.id}: {args.version} to {len(devices)} devices ({args.group}), "
          f"waves of {sizes}; the gateway drives it")  # fmt: skip
    return 0


def _show(args: argparse.Namespace) -> int:
    from civic_iot.rolloutview import render  # rich: not on the Pi
    from gateway import config, registry, registry_db, rollout

    gateway = config.load(args.config)
    path = Path(gateway.state_dir) / "registry.sqlite3"
    db = registry_db.connect(path)
    try:
        shown = rollout.find(db, args.rollout)
    except rollout.RolloutError as exc:
        print(f"civic-iot fleet rollout: {exc}", file=sys.stderr)
        return 1
    records = {r.device_id: r for r in registry.read(path)}
    print(render(shown, records.get), end="")
    return 0


def _change(args: argparse.Namespace) -> int:
    from gateway import config, registry_db, rollout

    gateway = config.load(args.config)
    db = registry_db.connect(Path(gateway.state_dir) / "registry.sqlite3")
    try:
        changed = rollout.find(db, args.rollout)
        rollout.change(changed, args.change)
    except rollout.RolloutError as exc:
        print(f"civic-iot fleet rollout: {exc}", file=sys.stderr)
        return 1
    rollout.save(db, changed)
    print(f"rollout {changed.id}: {changed.state}")
    return 0
