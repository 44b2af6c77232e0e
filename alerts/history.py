"""A replay stream rebuilt from what InfluxDB stored: "what would these rules have sent
last month?" before a rule changes.

Every reading of a site's own zone (rooms, doors, motion, buttons, tags, batteries) in
the period is read back with InfluxQL and published again, message by message, at its
own event time. InfluxDB does not keep device status, so outages show only as gaps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from wire import CATALOGUE, topics

Query = Callable[[str, str], list[dict[str, Any]]]
# Measurements of the site's own zone: what the watch-over and facility rules read.
_SITE_ZONE = sorted({q.measurement for q in CATALOGUE.values() if q.zone is None})


def local_day_ms(day: str, zone: str) -> int:
    """Epoch ms of local midnight starting ``day`` (YYYY-MM-DD); ValueError if not a date."""
    moment = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=ZoneInfo(zone))
    return int(moment.timestamp() * 1000)


def write_stream(query: Query, database: str, site: str, span: tuple[int, int], out: Path) -> int:
    """Write the site's readings in ``span`` (epoch ms, end excluded) as STREAM.jsonl;
    returns how many messages. ``site`` must be a checked site ID."""
    messages = sorted(_messages(query, database, site, span), key=lambda m: m["at"])
    with out.open("w", encoding="utf-8") as handle:
        for number, message in enumerate(messages, start=1):
            message["payload"]["seq"] = number
            handle.write(json.dumps(message, ensure_ascii=False) + "\n")
    return len(messages)


def _messages(
    query: Query, database: str, site: str, span: tuple[int, int]
) -> Iterator[dict[str, Any]]:
    if not topics.DEVICE_ID_PATTERN.fullmatch(site):
        raise ValueError(f"not a site ID: {site!r}")
    grouped: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for measurement in _SITE_ZONE:
        # Names from the catalogue, a checked site ID and integers: nothing from data.
        statement = (
            f'SELECT * FROM "{measurement}" WHERE "site" = \'{site}\' '  # noqa: S608
            f"AND time >= {int(span[0])}ms AND time < {int(span[1])}ms"
        )
        for series in query(statement, database):
            for row in _rows(series):
                for reading in _readings(measurement, row):
                    kind = CATALOGUE[reading["quantity"]].topic_kind.value
                    key = (str(row.get("device", "")), kind, _epoch_ms(row["time"]))
                    grouped.setdefault(key, []).append(reading)
    for (device, kind, ts), readings in grouped.items():
        if not device:
            continue
        topic = topics.device_topic(device, topics.Kind(kind))
        payload = {"schema": 1, "seq": 0, "ts": ts, "readings": readings}
        yield {"at": ts, "topic": topic, "payload": payload}


def _rows(series: dict[str, Any]) -> Iterator[dict[str, Any]]:
    columns = series.get("columns", [])
    for values in series.get("values", []):
        yield dict(zip(columns, values, strict=False))


def _readings(measurement: str, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for name, value in row.items():
        quantity = CATALOGUE.get(f"{measurement}.{name}")
        if quantity is None or value is None:
            continue
        reading = {"quantity": quantity.name, "value": value, "unit": quantity.unit}
        if row.get("sensor"):
            reading["sensor"] = row["sensor"]
        yield reading


def _epoch_ms(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value)
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
