"""The durable outbox between collectors and the MQTT link.

A message is committed here, with its sequence number, before anyone tries to publish
it, and deleted only after the broker's PUBACK. So a reading survives a dead broker, a
SIGKILL and a power cut; after a crash a message may go out twice, never zero times,
and sequence numbers never skip.

Durability: SQLite in WAL mode. With ``sync: full`` (the default) every commit waits
for fsync, so what was committed survives a power cut; the agent commits once per
collection round, not per reading. ``sync: normal`` skips that fsync: it survives a
crash of the agent but may lose the last commits on power loss, in exchange for far
fewer writes to the SD card. `bench/bench_outbox.py` measures both.

Bounded: by rows, bytes and age. When full, the oldest messages are evicted first and
every eviction is counted (and reported in the agent's health readings).

Kept after the PUBACK, for a while: a broker that crashes may lose what it acknowledged
but had not yet delivered (Mosquitto saves its queues every few seconds). So an
acknowledged message moves to ``sent`` (bounded by rows and age) instead of vanishing;
when the gateway finds a gap in the device's sequence it asks for those numbers again
and ``requeue`` puts them back in the outbox (see docs/decisions.md, "Gaps repaired").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple

from edge.errors import EdgeError

# Priorities: events (a door, a panic button) before telemetry and health.
EVENT, ROUTINE = 0, 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    priority INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    seq INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_by_priority ON outbox (priority, id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sent (
    seq INTEGER PRIMARY KEY,
    priority INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
"""
# Outboxes written before messages kept their sequence number in a column.
_ADD_SEQ = "ALTER TABLE outbox ADD COLUMN seq INTEGER"
# A resend request is answered with at most this many messages; the gateway asks again
# for the rest.
MAX_REQUEUE = 5_000
# Only placeholders are formatted into these.
_KEEP_SENT = (
    "INSERT OR REPLACE INTO sent SELECT seq, priority, topic, payload, created_ms "
    "FROM outbox WHERE id IN ({marks}) AND seq IS NOT NULL"
)
_MOVE_BACK = (
    "INSERT INTO outbox (priority, topic, payload, created_ms, seq) "
    "SELECT priority, topic, payload, created_ms, seq FROM sent WHERE seq IN ({chosen}) "
    "ORDER BY seq"
)


class OutboxError(EdgeError):
    """The outbox database cannot be opened or written."""


class Row(NamedTuple):
    id: int
    priority: int
    topic: str
    payload: bytes
    created_ms: int


class Limits(NamedTuple):
    max_rows: int = 500_000
    max_bytes: int = 256 * 1024 * 1024
    max_age_s: float = 14 * 24 * 3600
    # Acknowledged messages kept for a resend request (0 keeps none).
    sent_rows: int = 20_000
    sent_age_s: float = 6 * 3600


class Stats(NamedTuple):
    depth: int
    oldest_ms: int | None
    evicted: int


class Outbox:
    def __init__(
        self, path: Path, limits: Limits | None = None, sync: Literal["full", "normal"] = "full"
    ) -> None:
        self.path = path
        self.limits = limits or Limits()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={sync.upper()}")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
            if "seq" not in columns:
                self._db.execute(_ADD_SEQ)
            self._db.execute("CREATE INDEX IF NOT EXISTS outbox_by_seq ON outbox (seq)")
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {path}: {exc}") from None
        self._rows, self._bytes = self._db.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox"
        ).fetchone()

    # -- writing ---------------------------------------------------------------------

    def next_sequence(self) -> int:
        """The sequence number the next message will carry (persisted by ``add``)."""
        return self._counter("seq") + 1

    def add(self, messages: Iterable[tuple[int, str, bytes]], last_seq: int, now_ms: int) -> None:
        """Store (priority, topic, payload) messages and the last sequence number used,
        in one transaction: either all of them and the sequence, or none. The messages
        carry consecutive sequence numbers ending at ``last_seq``."""
        batch = list(messages)
        first_seq = last_seq - len(batch) + 1
        with self._transaction():
            self._db.executemany(
                "INSERT INTO outbox (priority, topic, payload, created_ms, seq) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (priority, topic, payload, now_ms, first_seq + index)
                    for index, (priority, topic, payload) in enumerate(batch)
                ],
            )
            self._set_counter("seq", last_seq)
            self._rows += len(batch)
            self._bytes += sum(len(payload) for _, _, payload in batch)
            self._evict_oldest(None)

    def remove(self, ids: Iterable[int]) -> None:
        """Move messages the broker acknowledged out of the outbox, into ``sent``."""
        ids = list(ids)
        if not ids:
            return
        with self._transaction():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                removed, size = self._db.execute(
                    f"SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox "  # noqa: S608 - only placeholders
                    f"WHERE id IN ({marks})",
                    chunk,
                ).fetchone()
                if self.limits.sent_rows > 0:
                    keep = _KEEP_SENT.format(marks=marks)
                    self._db.execute(keep, chunk)
                self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)  # noqa: S608
                self._rows -= removed
                self._bytes -= size
            self._bound_sent()

    def requeue(self, ranges: Iterable[tuple[int, int]]) -> tuple[int, int]:
        """Put acknowledged messages with these sequence numbers back in the outbox (the
        gateway never received them). Returns (requeued, asked for but no longer kept);
        numbers still waiting in the outbox count as neither: they are on their way.
        At most MAX_REQUEUE messages per call; the gateway asks again for the rest."""
        requeued = gone = 0
        with self._transaction():
            for first, last in ranges:
                room = MAX_REQUEUE - requeued
                if room <= 0:
                    break
                waiting = self._waiting(first, last)
                moved = self._move_back(first, last, room)
                requeued += moved
                if moved < room:  # the whole range was looked at
                    gone += max(0, (last - first + 1) - moved - waiting)
            self._set_counter("requeued", self._counter("requeued") + requeued)
        return requeued, gone

    def _waiting(self, first: int, last: int) -> int:
        query = "SELECT count(*) FROM outbox WHERE seq BETWEEN ? AND ?"
        return int(self._db.execute(query, (first, last)).fetchone()[0])

    def _move_back(self, first: int, last: int, limit: int) -> int:
        chosen = "SELECT seq FROM sent WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?"
        count, size = self._db.execute(
            f"SELECT count(*), coalesce(sum(length(payload)), 0) FROM sent WHERE seq IN ({chosen})",  # noqa: S608
            (first, last, limit),
        ).fetchone()
        self._db.execute(_MOVE_BACK.format(chosen=chosen), (first, last, limit))
        self._db.execute(f"DELETE FROM sent WHERE seq IN ({chosen})", (first, last, limit))  # noqa: S608
        self._rows += count
        self._bytes += size
        return int(count)

    def expire(self, now_ms: int) -> None:
        """Evict what is older than the age limit (the agent runs this every minute)."""
        with self._transaction():
            self._evict_oldest(now_ms - int(self.limits.max_age_s * 1000))
            too_old = now_ms - int(self.limits.sent_age_s * 1000)
            self._db.execute("DELETE FROM sent WHERE created_ms < ?", (too_old,))

    # -- reading ---------------------------------------------------------------------

    def take(self, priority: int, after_id: int, up_to_id: int, limit: int) -> list[Row]:
        """Up to ``limit`` messages of one priority with ids in (after_id, up_to_id],
        oldest first."""
        rows = self._db.execute(
            "SELECT id, priority, topic, payload, created_ms FROM outbox "
            "WHERE priority = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
            (priority, after_id, up_to_id, limit),
        ).fetchall()
        return [Row(*row) for row in rows]

    def last_id(self) -> int:
        """The id of the newest message ever stored (0 if none)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return int(row[0]) if row else 0

    def stats(self) -> Stats:
        row = self._db.execute("SELECT created_ms FROM outbox ORDER BY id LIMIT 1").fetchone()
        return Stats(self._rows, row[0] if row else None, self._counter("evicted"))

    def close(self) -> None:
        self._db.close()

    # -- inside ----------------------------------------------------------------------

    def _evict_oldest(self, too_old_ms: int | None) -> None:
        """Drop the oldest messages while they are older than ``too_old_ms`` or the outbox
        is over its bounds. Walks by id, which is insertion and so time order: the cost
        is what it evicts, never a scan of the table (this runs on every commit)."""
        limits = self.limits
        while True:
            oldest = self._db.execute(
                "SELECT id, created_ms, length(payload) FROM outbox ORDER BY id LIMIT 256"
            ).fetchall()
            rows, size, dropped = self._rows, self._bytes, 0
            for _, created_ms, length in oldest:
                aged = too_old_ms is not None and created_ms < too_old_ms
                if not aged and rows <= limits.max_rows and size <= limits.max_bytes:
                    break
                rows, size, dropped = rows - 1, size - length, dropped + 1
            if not dropped:
                return
            self._db.execute("DELETE FROM outbox WHERE id <= ?", (oldest[dropped - 1][0],))
            self._note_evicted(dropped, self._bytes - size)
            if dropped < len(oldest):
                return

    def _bound_sent(self) -> None:
        # Sequence numbers only grow, so the oldest kept are the lowest: a range delete
        # on the primary key, never a scan.
        self._db.execute(
            "DELETE FROM sent WHERE seq <= (SELECT max(seq) FROM sent) - ?",
            (self.limits.sent_rows,),
        )

    def _note_evicted(self, rows: int, size: int) -> None:
        self._rows -= rows
        self._bytes -= size
        self._set_counter("evicted", self._counter("evicted") + rows)

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _set_counter(self, name: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)


class _Transaction:
    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self._db.execute("COMMIT")
            return
        self._db.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise OutboxError(f"outbox {self._path}: {error}") from error
