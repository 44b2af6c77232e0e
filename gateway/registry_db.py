"""The registry's SQLite file: schema migrations, load and save of device records."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from common import sqlitedb
from gateway.errors import RegistryError
from gateway.sequence import SequenceState

# Each entry upgrades the file by one version (PRAGMA user_version). Append, never edit:
# a file written by an older release is upgraded in place on open.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        site TEXT NOT NULL DEFAULT '',
        zone TEXT NOT NULL DEFAULT '',
        listed INTEGER NOT NULL DEFAULT 0,
        first_seen_ms INTEGER,
        last_seen_ms INTEGER,
        status TEXT NOT NULL DEFAULT '',
        status_ts_ms INTEGER,
        status_reason TEXT NOT NULL DEFAULT '',
        agent TEXT NOT NULL DEFAULT '',
        desired_version INTEGER,
        reported_version INTEGER,
        reported_desired INTEGER,
        reported_state TEXT NOT NULL DEFAULT '',
        config_error TEXT NOT NULL DEFAULT '',
        health TEXT NOT NULL DEFAULT '{}',
        messages INTEGER NOT NULL DEFAULT 0,
        last_lag_ms INTEGER,
        sequence TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX devices_site ON devices (site);
    """,
    """
    ALTER TABLE devices ADD COLUMN release_running TEXT NOT NULL DEFAULT '';
    ALTER TABLE devices ADD COLUMN release_desired TEXT NOT NULL DEFAULT '';
    ALTER TABLE devices ADD COLUMN release_state TEXT NOT NULL DEFAULT '';
    ALTER TABLE devices ADD COLUMN release_error TEXT NOT NULL DEFAULT '';
    ALTER TABLE devices ADD COLUMN release_rollout TEXT NOT NULL DEFAULT '';
    CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        plan TEXT NOT NULL,
        max_failures REAL NOT NULL,
        deadline_s INTEGER NOT NULL,
        home_window TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        wave INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    """,
)

Health = dict[str, bool | int | float]


class DeviceRecord(msgspec.Struct):
    """What the gateway knows about one device, listed in firmware-config or only seen."""

    device_id: str
    site: str = ""
    zone: str = ""
    listed: bool = False
    first_seen_ms: int | None = None
    last_seen_ms: int | None = None
    status: str = ""
    status_ts_ms: int | None = None
    status_reason: str = ""
    agent: str = ""
    desired_version: int | None = None
    reported_version: int | None = None
    reported_desired: int | None = None
    reported_state: str = ""
    config_error: str = ""
    health: Health = msgspec.field(default_factory=dict)
    messages: int = 0
    last_lag_ms: int | None = None
    sequence: SequenceState = msgspec.field(default_factory=SequenceState)
    # The agent release it runs and how the desired one fares (release/reported).
    release_running: str = ""
    release_desired: str = ""
    release_state: str = ""
    release_error: str = ""
    release_rollout: str = ""


_COLUMNS = tuple(DeviceRecord.__struct_fields__)
_JSON_COLUMNS = {"health": Health, "sequence": SequenceState}


def connect(path: Path, migrations: Sequence[str] = MIGRATIONS) -> sqlite3.Connection:
    """Open (creating if need be) and upgrade the registry file."""
    try:
        return sqlitedb.connect(path, migrations)
    except (sqlite3.DatabaseError, sqlitedb.SchemaTooNewError) as exc:
        raise RegistryError(f"device registry {path}: {exc}") from exc


def load(db: sqlite3.Connection) -> dict[str, DeviceRecord]:
    cursor = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM devices")  # noqa: S608
    records = {}
    for row in cursor:
        values = dict(zip(_COLUMNS, row, strict=True))
        for column, kind in _JSON_COLUMNS.items():
            values[column] = msgspec.json.decode(values[column], type=kind)
        values["listed"] = bool(values["listed"])
        record = DeviceRecord(**values)
        records[record.device_id] = record
    return records


def save(db: sqlite3.Connection, records: Iterable[DeviceRecord]) -> None:
    """Write the records in one transaction."""
    placeholders = ", ".join("?" for _ in _COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
    sql = (
        f"INSERT INTO devices ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT (device_id) DO UPDATE SET {updates}"
    )
    db.execute("BEGIN IMMEDIATE")
    # Rows made one by one as SQLite takes them: 50,000 devices at once were 10 MiB.
    db.executemany(sql, (_row(record) for record in records))
    db.execute("COMMIT")


def _row(record: DeviceRecord) -> tuple[object, ...]:
    values = []
    for column in _COLUMNS:
        value = getattr(record, column)
        values.append(msgspec.json.encode(value).decode() if column in _JSON_COLUMNS else value)
    return tuple(values)
