"""Set-up on InfluxDB 1.x: databases, retention policies and the hourly roll-up.

Idempotent: it reads what exists (SHOW ...) and creates or alters only what differs,
so the gateway runs it at every start and an operator can run it any time.
Raw data stays in the writing policy (``autogen`` unless configured); a continuous
query rolls every measurement up into ``rollup_1h`` with mean, min, max and count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.retention import ROLLUP, ROLLUP_EVERY, ZonePlan, days_text

Query = Callable[[str, str], list[dict[str, Any]]]  # (statement, database) -> series


def set_up(query: Query, zones: list[ZonePlan], raw_policy: str | None) -> list[str]:
    """Apply the plan; returns one line per zone saying what it did."""
    report = []
    for zone in zones:
        db = zone.database
        query(f'CREATE DATABASE "{db}"', db)
        policies = {row[0]: row for row in _rows(query(f'SHOW RETENTION POLICIES ON "{db}"', db))}
        raw = raw_policy or "autogen"
        did = [
            _policy(query, db, policies, raw, zone.raw_days, default=True),
            _policy(query, db, policies, ROLLUP, zone.rollup_days, default=False),
            _continuous_query(query, db, raw),
        ]
        report.append(
            f"{db}: raw ({raw}) kept {days_text(zone.raw_days)}, hourly roll-up ({ROLLUP}) "
            f"kept {days_text(zone.rollup_days)}; " + ", ".join(did)
        )
    return report


def _policy(
    query: Query, db: str, existing: dict[str, list[Any]], name: str, days: int, *, default: bool
) -> str:
    duration = "INF" if days == 0 else f"{days}d"
    wanted = "0s" if days == 0 else f"{days * 24}h0m0s"
    tail = " DEFAULT" if default else ""
    row = existing.get(name)
    if row is None:
        query(
            f'CREATE RETENTION POLICY "{name}" ON "{db}" DURATION {duration} REPLICATION 1{tail}',
            db,
        )
        return f"policy {name} created"
    if row[1] == wanted and (row[4] or not default):
        return f"policy {name} unchanged"
    query(f'ALTER RETENTION POLICY "{name}" ON "{db}" DURATION {duration}{tail}', db)
    return f"policy {name} changed"


def _continuous_query(query: Query, db: str, raw: str) -> str:
    name = f"cq_{ROLLUP}"
    # Names are configured identifiers (schema.Databases checks them), never data.
    select = (
        f'SELECT mean(*), min(*), max(*), count(*) INTO "{db}"."{ROLLUP}".:MEASUREMENT '  # noqa: S608
        f'FROM "{db}"."{raw}"./.*/ GROUP BY time({ROLLUP_EVERY}), *'
    )
    statement = f'CREATE CONTINUOUS QUERY "{name}" ON "{db}" BEGIN {select} END'
    shown = query("SHOW CONTINUOUS QUERIES", db)
    existing = {
        row[0]: row[1]
        for series in shown
        if series.get("name") == db
        for row in series.get("values", [])
    }
    if name in existing:
        if _same_query(existing[name], statement):
            return f"continuous query {name} unchanged"
        query(f'DROP CONTINUOUS QUERY "{name}" ON "{db}"', db)
        query(statement, db)
        return f"continuous query {name} replaced"
    query(statement, db)
    return f"continuous query {name} created"


def _same_query(shown: str, statement: str) -> bool:
    # SHOW prints identifiers without quotes.
    return shown.replace('"', "") == statement.replace('"', "")


def _rows(series: list[dict[str, Any]]) -> list[list[Any]]:
    return [row for one in series for row in one.get("values", [])]
