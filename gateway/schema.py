"""How readings become InfluxDB points: measurement, tags, fields and database.

The mapping is documented in docs/influxdb-schema.md; a test keeps that table equal to
``markdown_table()``.
"""

from __future__ import annotations

import sys
from typing import Annotated, NamedTuple

import msgspec

from common.city.inventory import DevicePlacement
from gateway.lineprotocol import FieldValue, field_key, field_value, line, series_key, tag_value
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
# Measurements with more than one field: their readings may share a point.
_SHARED = {m for m in {q.measurement for q in CATALOGUE.values()}
           if sum(q.measurement == m for q in CATALOGUE.values()) > 1}  # fmt: skip


_DEVICE_MARK = "\0"  # stands for the device in a template (escaping never makes one)


class _Head(NamedTuple):
    """What a reading of one quantity from one sensor at one site becomes; the device
    goes between ``before`` and ``after``."""

    zone: Zone
    field: str  # escaped field key
    is_float: bool
    before: str  # "<measurement>,device="
    after: str  # ",sensor=…,site=… <field>=" (escaped, tags sorted)
    shared: bool  # its measurement has other fields that may share the point
    measurement: str  # (one string shared by all heads)

    def series(self, device: str) -> str:
        return f"{self.before}{device}{self.after[: -len(self.field) - 2]}"


class LineMaker:
    """Line protocol per zone for a message; readings of one measurement, sensor and
    time share a point.

    Escaping a series key was most of the cost of a reading, so each (site, quantity,
    sensor) is worked out once and kept as a template the device is spliced into: the
    table grows with sites and sensor names, not with devices (a city of 50,000 devices
    in 500 homes with the same rooms needs a few thousand), and a reading costs one
    lookup. Past ``max_series`` templates it starts again empty rather than grow."""

    def __init__(self, max_series: int = 100_000) -> None:
        self._max_series = max_series
        self._heads: dict[tuple[str, str, str], _Head] = {}

    def lines(
        self, message: Message, device_id: str, placement: DevicePlacement
    ) -> dict[Zone, list[str]]:
        """A line per reading while no two readings are fields of one point (the hot
        path); else points merged first."""
        heads, site_id = self._heads, placement.site.id
        device = tag_value(device_id)
        default_ts = str(message.ts)
        by_zone: dict[Zone, list[str]] = {}
        current_zone, current = None, []
        points: set[tuple[str, str, str | int]] = set()
        for reading in message.readings:
            head = heads.get((site_id, reading.quantity, reading.sensor))
            if head is None:
                head = self._head(reading, placement)
            ts = default_ts if reading.ts is None else reading.ts
            # A second field of a point already made: merge instead. (A reading whose own
            # time equals the message's is not caught here; InfluxDB merges that point.)
            if head.shared:
                point = (head.measurement, reading.sensor, ts)
                if point in points:
                    return self._merged(message, device, placement)
                points.add(point)
            value = reading.value
            if head.is_float:
                # float() keeps the field a float even when JSON said 41; "21" without a
                # suffix is still a float (influxdb-client writes integral floats so).
                text = repr(value) if value.__class__ is float else repr(float(value))
                if text[-2:] == ".0":
                    text = text[:-2]
            else:
                text = field_value(value)
            if head.zone is not current_zone:  # look the zone up only when it changes
                current_zone, current = head.zone, by_zone.setdefault(head.zone, [])
            current.append(f"{head.before}{device}{head.after}{text} {ts}")
        return by_zone

    def _merged(
        self, message: Message, device: str, placement: DevicePlacement
    ) -> dict[Zone, list[str]]:
        """Readings of one measurement, sensor and time as one point, fields sorted (a
        field given twice: the last)."""
        points: dict[tuple[str, int], dict[str, str]] = {}
        zones: dict[str, Zone] = {}
        for reading in message.readings:
            head = self._heads.get((placement.site.id, reading.quantity, reading.sensor))
            if head is None:
                head = self._head(reading, placement)
            value = float(reading.value) if head.is_float else reading.value
            ts = message.ts if reading.ts is None else reading.ts
            series = head.series(device)
            points.setdefault((series, ts), {})[head.field] = field_value(value)
            zones[series] = head.zone
        by_zone: dict[Zone, list[str]] = {}
        for (series, ts), fields in points.items():
            joined = ",".join(f"{key}={text}" for key, text in sorted(fields.items()))
            by_zone.setdefault(zones[series], []).append(f"{series} {joined} {ts}")
        return by_zone

    def _head(self, reading: Reading, placement: DevicePlacement) -> _Head:
        measurement, field, zone, is_float = _TARGETS[reading.quantity]
        # Only device health has a zone of its own; everything else lives in the zone of
        # the site's kind, so a home never writes the facility database.
        target = zone if zone is Zone.OPERATIONS else placement.site.zone
        site = placement.site.id
        tags = {"device": _DEVICE_MARK, "site": site, "sensor": reading.sensor}
        before, after = series_key(measurement, tags).split(_DEVICE_MARK)
        key = field_key(field)
        head = _Head(target, key, is_float, before, f"{after} {key}=", measurement in _SHARED,
                     measurement)  # fmt: skip
        if len(self._heads) >= self._max_series:
            self._heads.clear()
        # Interned: the decoded message's strings would otherwise be kept once per key.
        quantity, sensor = sys.intern(reading.quantity), sys.intern(reading.sensor)
        self._heads[(site, quantity, sensor)] = head
        return head


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
