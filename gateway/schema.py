"""How readings become InfluxDB points: measurement, tags, fields and database.

The mapping is documented in docs/influxdb-schema.md; a test keeps that table equal to
``markdown_table()``.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Annotated

import msgspec

from common.city.inventory import DevicePlacement
from gateway.lineprotocol import FieldValue, field_set, line, series_key
from wire import CATALOGUE, AlertState, Message, ValueType, Zone

TAGS = ("device", "site", "sensor")
# Database, bucket and retention policy names go into InfluxQL statements.
Identifier = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]


class Databases(msgspec.Struct, forbid_unknown_fields=True, frozen=True, rename="kebab"):
    """Database (v1) or bucket (v2) of each trust zone."""

    watch_over: Identifier = "civic_watch"
    facility: Identifier = "civic_facility"
    operations: Identifier = "civic_ops"

    def of(self, zone: Zone) -> str:
        if zone is Zone.WATCH_OVER:
            return self.watch_over
        return self.facility if zone is Zone.FACILITY else self.operations

    def all(self) -> list[str]:
        return [self.watch_over, self.facility, self.operations]


# quantity -> (measurement, field, fixed zone or None, is float), read once per reading.
_TARGETS = {
    q.name: (q.measurement, q.field, q.zone, q.type is ValueType.FLOAT) for q in CATALOGUE.values()
}


def message_lines(
    message: Message, device_id: str, placement: DevicePlacement
) -> dict[Zone, list[str]]:
    """Line protocol per zone; readings of one measurement, sensor and time share a point."""
    points: dict[tuple[Zone, str, str, int], dict[str, FieldValue]] = defaultdict(dict)
    site_zone = placement.site.zone
    for reading in message.readings:
        measurement, field, zone, is_float = _TARGETS[reading.quantity]
        ts = reading.ts if reading.ts is not None else message.ts
        # float() keeps the field a float even when JSON said 41
        value = float(reading.value) if is_float else reading.value
        # Only device health has a zone of its own; everything else lives in the zone of
        # the site's kind, so a home never writes the facility database.
        target = zone if zone is Zone.OPERATIONS else site_zone
        points[(target, measurement, reading.sensor, ts)][field] = value
    by_zone: dict[Zone, list[str]] = defaultdict(list)
    site = placement.site.id
    for (zone, measurement, sensor, ts), fields in points.items():
        head = _series_key(measurement, device_id, site, sensor)
        by_zone[zone].append(f"{head} {field_set(fields)} {ts}")
    return dict(by_zone)


@functools.lru_cache(maxsize=16_384)
def _series_key(measurement: str, device: str, site: str, sensor: str) -> str:
    # Escaping the same few thousand series keys over and over was the hot path.
    return series_key(measurement, {"device": device, "site": site, "sensor": sensor})


ALERT_MEASUREMENT = "alert"


def alert_line(state: AlertState) -> str:
    """One point per change of an alert: a dashboard's open alerts are the alerts whose
    last point has ``open = 1``."""
    tags = {"alert": str(state.alert_id), "rule": state.rule, "severity": state.severity,
            "site": state.site, "device": state.device}  # fmt: skip
    fields: dict[str, FieldValue] = {
        "title": state.title,
        "state": state.state,
        "open": int(state.state != "resolved"),
        "acknowledged": int(state.state == "acknowledged"),
        "opened_ms": state.opened_ts,
    }
    return line(ALERT_MEASUREMENT, tags, fields, state.ts)


def markdown_table(databases: Databases | None = None) -> str:
    """The schema as a Markdown table, one row per field."""
    databases = databases or Databases()
    rows = [
        "| measurement | field | type | unit | zone: database / bucket | description |",
        "|---|---|---|---|---|---|",
    ]
    for quantity in CATALOGUE.values():
        if quantity.zone is None:
            zone = (
                f"site's zone: `{databases.watch_over}` (home) or `{databases.facility}` (facility)"
            )
        elif quantity.zone is Zone.FACILITY:
            zone = f"facility: `{databases.facility}` (from a home: `{databases.watch_over}`)"
        else:
            zone = f"{quantity.zone.value}: `{databases.of(quantity.zone)}`"
        rows.append(
            f"| `{quantity.measurement}` | `{quantity.field}` | {quantity.type.value} "
            f"| `{quantity.unit}` | {zone} | {quantity.description} |"
        )
    return "\n".join(rows)
