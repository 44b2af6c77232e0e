"""Batches that InfluxDB could not take yet, on disk, in arrival order.

The gateway acknowledges a message to the broker only once its points are durable:
written to InfluxDB, or committed here. The spool is SQLite in WAL mode with
``synchronous=FULL`` (a power cut keeps what was acknowledged), bounded in bytes;
a batch that does not fit is refused and counted, never half-kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    database TEXT NOT NULL,
    points INTEGER NOT NULL,
    lines TEXT NOT NULL
)
"""


class Spooled(NamedTuple):
    id: int
    database: str
    lines: list[str]
    size: int  # bytes of its text


class Spool:
    def __init__(self, path: Path, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._max_bytes = max_bytes
        row = self._db.execute(
            "SELECT count(*), coalesce(sum(points), 0), coalesce(sum(length(lines)), 0) FROM batch"
        ).fetchone()
        self.batches, self.points, self.bytes = int(row[0]), int(row[1]), int(row[2])

    def add(self, database: str, lines: list[str]) -> bool:
        """Keep a batch; False (nothing kept) when it would pass the bound."""
        text = "\n".join(lines)  # an item may hold several lines
        if self.bytes + len(text) > self._max_bytes:
            return False
        points = text.count("\n") + 1
        self._db.execute(
            "INSERT INTO batch (database, points, lines) VALUES (?, ?, ?)",
            (database, points, text),
        )
        self.batches += 1
        self.points += points
        self.bytes += len(text)
        return True

    def oldest(self) -> Spooled | None:
        row = self._db.execute(
            "SELECT id, database, lines FROM batch ORDER BY id LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        text = str(row[2])
        return Spooled(int(row[0]), str(row[1]), text.split("\n"), len(text))

    def remove(self, batch: Spooled) -> None:
        self._db.execute("DELETE FROM batch WHERE id = ?", (batch.id,))
        self.batches -= 1
        self.points -= len(batch.lines)
        self.bytes -= batch.size

    def close(self) -> None:
        self._db.close()
