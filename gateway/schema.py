"""How readings become InfluxDB points: measurement, tags, fields and database.

The mapping is documented in docs/influxdb-schema.md; a test keeps that table equal to
``markdown_table()``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from operator import attrgetter
from typing import Annotated, NamedTuple

import msgspec

from common.city.inventory import DevicePlacement
from gateway.lineprotocol import FieldValue, field_key, field_value, line, series_key
from wire import CATALOGUE, AlertState, ValueType, Zone
from wire.payloads import MessageView, ReadingView, shape_of
from wire.quick import MessageShape

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


# quantity -> (measurement, field, fixed zone or None, value type)
_TARGETS = {q.name: (q.measurement, q.field, q.zone, q.type) for q in CATALOGUE.values()}
# Measurements with more than one field: their readings may share a point.
_SHARED = {m for m in {q.measurement for q in CATALOGUE.values()}
           if sum(q.measurement == m for q in CATALOGUE.values()) > 1}  # fmt: skip


# Below this many readings a message's lines are made one by one (cheaper than setting
# up the C-speed path).
_FEW = 4
_DEVICE_MARK = "\0"  # stands for the device in a template (escaping never makes one)
_MAX_TEMPLATES = 4096  # (site, message shape) pairs


# A zone's lines of a message (an item may hold several) and how many points they are.
ZoneLines = tuple[Zone, list[str], int]


class _Template(NamedTuple):
    """The usual message's lines at one site as pieces to join, five a reading: the text
    before the device, the device, the text after it up to the value, the value and the
    time (each message's own pieces left empty)."""

    parts: list[str]
    zone: Zone


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
        self._size = 0
        # site -> (quantity, sensor) -> head: the site is looked up once a message.
        self._heads: dict[str, dict[tuple[str, str], _Head]] = {}
        # site -> message shape -> template; None where the readings need more than a
        # slot per value (integers, points shared by two readings). Nothing per device:
        # a city of 50,000 devices in 500 homes with the same rooms needs 500.
        self._templates: dict[str, dict[MessageShape, _Template | None]] = {}
        self._template_count = 0

    def lines(
        self,
        message: MessageView,
        device_id: str,
        placement: DevicePlacement,
        shape: MessageShape | None,
    ) -> list[ZoneLines]:
        """A line per reading while no two readings are fields of one point; else points
        merged first. An item may hold several lines, joined by newlines (the usual
        message's lines are one string: a batch holds far fewer objects).
        ``device_id`` and the site's ID are valid by the contract (``[a-z0-9-]``): they
        need no escaping."""
        readings = message.readings
        if shape is not None and len(readings) >= _FEW:
            templates = self._templates.get(placement.site.id)
            template = _UNSEEN if templates is None else templates.get(shape, _UNSEEN)
            if template is _UNSEEN:
                template = self._template(shape, placement)
            if template is not None:
                text = _from_template(template.parts, device_id, readings, message.ts)
                return [(template.zone, [text], len(readings))]
        heads = self._heads.get(placement.site.id)
        if heads is None:
            heads = self._heads[placement.site.id] = {}
        made = self._one_by_one(message, device_id, placement, heads)
        return [(zone, items, len(items)) for zone, items in made.items()]

    def _template(self, shape: MessageShape, placement: DevicePlacement) -> _Template | None:
        site = placement.site
        targets = [_TARGETS[quantity] for quantity in shape.quantities]
        zones = {zone is Zone.OPERATIONS for _, _, zone, _ in targets}
        plain = len(set(shape.sensors)) == len(shape.sensors) and len(zones) == 1 and all(
            value_type is not ValueType.INT for _, _, _, value_type in targets)  # fmt: skip
        template = None
        if plain:
            parts: list[str] = []
            for (measurement, field, _, _), sensor in zip(targets, shape.sensors, strict=True):
                tags = {"device": _DEVICE_MARK, "site": site.id, "sensor": sensor}
                before, after = series_key(measurement, tags).split(_DEVICE_MARK)
                parts += [before, "", f"{after} {field_key(field)}=", "", ""]
            template = _Template(parts, Zone.OPERATIONS if zones == {True} else site.zone)
        if self._template_count >= _MAX_TEMPLATES:
            self._templates.clear()
            self._template_count = 0
        self._templates.setdefault(site.id, {})[shape] = template
        self._template_count += 1
        return template

    def _one_by_one(
        self,
        message: MessageView,
        device_id: str,
        placement: DevicePlacement,
        heads: dict[tuple[str, str], _Head],
    ) -> dict[Zone, list[str]]:
        default_ts = message.ts
        by_zone: dict[Zone, list[str]] = {}
        current_zone, current = None, []
        points: set[tuple[str, str, int]] = set()
        for reading in message.readings:
            head = heads.get((reading.quantity, reading.sensor))
            if head is None:
                head = self._head(reading, placement, heads)
            ts = default_ts if reading.ts is None else reading.ts
            if head.shared:  # a second field of a point already made: merge instead
                point = (head.measurement, reading.sensor, ts)
                if point in points:
                    return self._merged(message, device_id, placement)
                points.add(point)
            value = reading.value
            if value.__class__ is float:
                text = repr(value)
            else:  # float() keeps the field a float even when JSON said 41
                text = field_value(float(value) if head.is_float else value)
            if head.zone is not current_zone:  # look the zone up only when it changes
                current_zone, current = head.zone, by_zone.setdefault(head.zone, [])
            current.append(f"{head.before}{device_id}{head.after}{text} {ts}")
        return by_zone

    def _merged(
        self, message: MessageView, device: str, placement: DevicePlacement
    ) -> dict[Zone, list[str]]:
        """Readings of one measurement, sensor and time as one point, fields sorted (a
        field given twice: the last)."""
        points: dict[tuple[str, int], dict[str, str]] = {}
        zones: dict[str, Zone] = {}
        heads = self._heads[placement.site.id]
        for reading in message.readings:
            head = heads.get((reading.quantity, reading.sensor))
            if head is None:
                head = self._head(reading, placement, heads)
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

    def _head(
        self, reading: ReadingView, placement: DevicePlacement, heads: dict[tuple[str, str], _Head]
    ) -> _Head:
        measurement, field, zone, value_type = _TARGETS[reading.quantity]
        # Only device health has a zone of its own; everything else lives in the zone of
        # the site's kind, so a home never writes the facility database.
        target = zone if zone is Zone.OPERATIONS else placement.site.zone
        site = placement.site.id
        tags = {"device": _DEVICE_MARK, "site": site, "sensor": reading.sensor}
        before, after = series_key(measurement, tags).split(_DEVICE_MARK)
        key = field_key(field)
        head = _Head(target, key, value_type is ValueType.FLOAT, before, f"{after} {key}=",
                     measurement in _SHARED, measurement)  # fmt: skip
        if self._size >= self._max_series:
            for site_heads in self._heads.values():
                site_heads.clear()
            self._size = 0
        # Interned: the decoded message's strings would otherwise be kept once per key.
        quantity, sensor = sys.intern(reading.quantity), sys.intern(reading.sensor)
        heads[(quantity, sensor)] = head
        self._size += 1
        return head


_VALUE = attrgetter("value")
_json = msgspec.json.Encoder().encode


def _from_template(
    parts: list[str], device_id: str, readings: Sequence[ReadingView], ts: int
) -> str:
    """The usual message's lines without a Python loop: one JSON encoding formats every
    value (floats and booleans are written in line protocol as in JSON; an integral
    float as "21.0", a float all the same), one join puts the pieces together (quicker
    than a ``%`` template, which is parsed every time)."""
    values = _json(list(map(_VALUE, readings)))[1:-1].decode().split(",")
    count = len(values)
    joined = parts.copy()
    joined[1::5] = [device_id] * count
    joined[3::5] = values
    end = f" {ts}"
    joined[4::5] = [f"{end}\n"] * count
    joined[-1] = end
    return "".join(joined)


_UNSEEN = _Template([], Zone.OPERATIONS)
_DEFAULT_MAKER = LineMaker()


def message_lines(
    message: MessageView, device_id: str, placement: DevicePlacement
) -> dict[Zone, list[str]]:
    """Line protocol per zone, a line per item (with a process-wide cache; the gateway
    keeps its own)."""
    made = _DEFAULT_MAKER.lines(message, device_id, placement, shape_of(message))
    return {zone: "\n".join(items).split("\n") for zone, items, _ in made}


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
