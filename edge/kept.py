"""What collectors must still know after the agent restarts (the BLE collector's
encryption counters and packet ids), in ``<state_dir>/collectors-kept.json``.

Saved after a collecting round when it changed (written to a temporary file and renamed),
given back to each collector by name whenever collectors are built. Without it a
restarted agent accepted one replayed encrypted packet per sensor. A file that cannot be
read is logged and forgotten: a collector then starts as it did before this file existed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import atomicfile
from edge.collectors import Collector

log = logging.getLogger(__name__)
FILE = "collectors-kept.json"


class KeptState:
    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / FILE
        self._saved = self._read()

    def restore(self, collectors: Sequence[Collector]) -> None:
        for collector in collectors:
            collector.restore(self._saved.get(collector.name, {}))

    def save(self, collectors: Sequence[Collector]) -> None:
        current = {c.name: kept for c in collectors if (kept := c.kept())}
        if current == self._saved:
            return
        try:
            atomicfile.write(self._path, json.dumps(current, sort_keys=True))
        except OSError as exc:
            log.warning("cannot keep collector state in %s: %s", self._path, exc.strerror)
            return
        self._saved = current

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("forgetting unreadable collector state %s: %s", self._path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {name: kept for name, kept in data.items() if isinstance(kept, dict)}
