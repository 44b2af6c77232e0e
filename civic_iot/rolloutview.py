"""A rollout as IT reads it: each wave with a progress bar and its devices counted
done, failed and pending; the devices that failed, with their reason."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table

from civic_iot.terminal import printable
from gateway.registry_db import DeviceRecord
from gateway.rollout import Rollout, count, verdict

Lookup = Callable[[str], DeviceRecord | None]


def render(rollout: Rollout, record: Lookup, width: int = 100) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, no_color=True)
    reason = f" ({rollout.reason})" if rollout.reason else ""
    console.print(f"rollout {rollout.id}: {rollout.version} to {rollout.target} — "
                  f"{rollout.state}{reason}")  # fmt: skip
    table = Table(box=None, pad_edge=False)
    for column in ("wave", "devices", "progress", "done", "failed", "pending"):
        table.add_column(column)
    for index, devices in enumerate(rollout.plan):
        counted = count(rollout, devices, record)
        name = "canary" if index == 0 else f"wave {index}"
        if index > rollout.wave:
            name += " (not yet)"
        bar = ProgressBar(total=counted.total, completed=counted.done + counted.failed, width=20)
        table.add_row(name, str(counted.total), bar, str(counted.done), str(counted.failed),
                      str(counted.pending))  # fmt: skip
    console.print(table)
    for device_id in rollout.told:
        found = record(device_id)
        if found is not None and verdict(rollout, found) == "failed":
            console.print(f"  {device_id}: {printable(found.release_error)[:300]}")
    return out.getvalue()
