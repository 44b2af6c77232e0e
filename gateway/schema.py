"""How readings become InfluxDB points: measurement, tags, fields and database.

The mapping is documented in docs/influxdb-schema.md; a test keeps that table equal to
``markdown_table()``.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import msgspec

from common.city.inventory import DevicePlacement
from gateway.lineprotocol import FieldValue, field_key, field_value, line, series_key
from wire import CATALOGUE, AlertState, Message, Reading, ValueType, Zone

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


# quantity -> (measurement, field, fixed zone or None, is float)
_TARGETS = {
    q.name: (q.measurement, q.field, q.zone, q.type is ValueType.FLOAT) for q in CATALOGUE.values()
}


class _Head(NamedTuple):
    """What a reading of one quantity from one sensor of one device becomes."""

    zone: Zone
    series: str  # measurement,device=…,sensor=…,site=… (escaped, tags sorted)
    field: str  # escaped field key
    is_float: bool


class LineMaker:
    """Line protocol per zone for a message; readings of one measurement, sensor and
    time share a point.

    Escaping a series key is most of the cost of a reading, so each (device, quantity,
    sensor) is worked out once and kept. The cache is sized to the fleet (a city of
    2,000 devices with 20 sensors each has 40,000 series; a smaller cache missed two
    times in three); past ``max_series`` it starts again empty rather than grow."""

    def __init__(self, max_series: int = 200_000) -> None:
        self._max_series = max_series
        self._size = 0
        self._heads: dict[tuple[str, str], dict[tuple[str, str], _Head]] = {}

    def lines(
        self, message: Message, device_id: str, placement: DevicePlacement
    ) -> dict[Zone, list[str]]:
        site = placement.site
        heads = self._heads.get((device_id, site.id))
        if heads is None:
            heads = self._device_heads(device_id, site.id)
        # (series, time) -> the point's fields; the series key names the measurement,
        # so it also says the zone (kept beside it: hashing an Enum is slow Python).
        points: dict[tuple[str, int], list[tuple[str, str]]] = {}
        zones: dict[str, Zone] = {}
        default_ts = message.ts
        for reading in message.readings:
            head = heads.get((reading.quantity, reading.sensor))
            if head is None:
                head = self._head(heads, reading, device_id, placement)
            value = reading.value
            text = _float_text(value) if head.is_float else field_value(value)
            key = (head.series, default_ts if reading.ts is None else reading.ts)
            fields = points.get(key)
            if fields is None:
                points[key] = [(head.field, text)]
                zones[head.series] = head.zone
            else:
                fields.append((head.field, text))
        by_zone: dict[Zone, list[str]] = {}
        current_zone, current = None, []
        for (series, ts), fields in points.items():
            if len(fields) == 1:
                line = f"{series} {fields[0][0]}={fields[0][1]} {ts}"
            else:  # one point, its fields sorted; a field given twice: the last
                joined = ",".join(f"{k}={v}" for k, v in sorted(dict(fields).items()))
                line = f"{series} {joined} {ts}"
            zone = zones[series]
            if zone is not current_zone:  # look the zone up only when it changes
                current_zone, current = zone, by_zone.setdefault(zone, [])
            current.append(line)
        return by_zone

    def _device_heads(self, device_id: str, site_id: str) -> dict[tuple[str, str], _Head]:
        if self._size >= self._max_series:
            self._heads.clear()
            self._size = 0
        heads: dict[tuple[str, str], _Head] = {}
        self._heads[(device_id, site_id)] = heads
        return heads

    def _head(
        self,
        heads: dict[tuple[str, str], _Head],
        reading: Reading,
        device_id: str,
        placement: DevicePlacement,
    ) -> _Head:
        measurement, field, zone, is_float = _TARGETS[reading.quantity]
        # Only device health has a zone of its own; everything else lives in the zone of
        # the site's kind, so a home never writes the facility database.
        target = zone if zone is Zone.OPERATIONS else placement.site.zone
        tags = {"device": device_id, "site": placement.site.id, "sensor": reading.sensor}
        head = _Head(target, series_key(measurement, tags), field_key(field), is_float)
        heads[(reading.quantity, reading.sensor)] = head
        self._size += 1
        return head


def _float_text(value: bool | int | float) -> str:
    # float() keeps the field a float even when JSON said 41; "21" without a suffix is
    # still a float in line protocol (influxdb-client writes integral floats that way).
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


_DEFAULT_MAKER = LineMaker()


def message_lines(
    message: Message, device_id: str, placement: DevicePlacement
) -> dict[Zone, list[str]]:
    """Line protocol per zone (with a process-wide cache; the gateway keeps its own)."""
    return _DEFAULT_MAKER.lines(message, device_id, placement)


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
