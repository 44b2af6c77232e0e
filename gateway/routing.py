"""One message in: which topic it came on, what it says, and what becomes of it.

Readings from a device listed in firmware-config become points in its site's zone
(after plausibility, the clock, the sensor-name guard and its sequence number); the
city's alerts service's alert states become points for the dashboards; retained status
and config topics update the registry. Anything else is a dead letter with the reason.
Nothing here writes or acknowledges: the durable core does (gateway/durable.py).
"""

from __future__ import annotations

import logging
import time

from common.city.inventory import Inventory
from gateway.announce import Announcer
from gateway.durable import Batch
from gateway.gaps import GapRepair
from gateway.opsreport import OpsReport
from gateway.registry import Registry
from gateway.registry_db import DeviceRecord
from gateway.schema import Databases, LineMaker, alert_line
from gateway.stats import IngestStats
from wire import (
    AlertState,
    ConfigDesired,
    ConfigReported,
    Kind,
    PayloadError,
    ReleaseReported,
    Status,
    TopicError,
    decode,
    now_ms,
)
from wire import topics as wire_topics
from wire.payloads import MessageView, clock_problem, decode_readings, guard_sensor_names
from wire.quick import MessageShape

log = logging.getLogger(__name__)
_UNKNOWN_EVENT_EVERY_MS = 3_600_000
_MAX_TOPICS_KEPT = 8192  # parsed device topics (a larger city parses the rest each time)
_NO_NAMES: frozenset[str] = frozenset()


class Router:
    def __init__(
        self,
        inventory: Inventory,
        databases: Databases,
        registry: Registry,
        batch: Batch,
        announce: Announcer,
        *,
        stats: IngestStats,
        ops: OpsReport,
        gaps: GapRepair,
        max_series: int = 100_000,
    ) -> None:
        self.inventory = inventory
        self._databases = databases
        self._registry = registry
        self._batch = batch
        self._announce = announce
        self._stats = stats
        self._ops = ops
        self._gaps = gaps
        self._alerts_services = {s.id for s in inventory.city.services if s.role == "alerts"}
        self._sensors: dict[str, frozenset[str]] = {}
        self._name_sets: dict[frozenset[str], frozenset[str]] = {}
        self._lines = LineMaker(max_series)
        self._unknown_told: dict[str, int] = {}
        self._device_topics: dict[str, wire_topics.DeviceTopic] = {}

    def handle(self, topic: str, payload: bytes) -> None:
        self._stats.messages += 1
        device = self._device_topics.get(topic)
        if device is None:
            device = self._device_topic(topic, payload)
            if device is None:
                return
        try:
            if device.kind in wire_topics.READING_KINDS:
                self._readings(device.device_id, topic, payload)
            else:
                self._retained(device, topic, payload)
        except PayloadError as exc:
            self._announce.dead_letter(topic, payload, exc.reason, exc.where)

    def _device_topic(self, topic: str, payload: bytes) -> wire_topics.DeviceTopic | None:
        """The device topic parsed (and kept: a device uses a few); None when the topic
        was a service's, handled here, or not one of ours (dead-lettered)."""
        service = wire_topics.parse_service(topic)
        if service is not None and service.kind is wire_topics.ServiceKind.ALERT:
            if service.service_id in self._alerts_services:
                self._alert_state(topic, payload)
            else:  # only the city's alerts service says what is open on the dashboards
                reason = f"{service.service_id!r} is not an alerts service in firmware-config"
                self._announce.dead_letter(topic, payload, reason, "$")
            return None
        try:
            device = wire_topics.parse(topic)
        except TopicError as exc:
            self._announce.dead_letter(topic, payload, str(exc), "$")
            return None
        if len(self._device_topics) >= _MAX_TOPICS_KEPT:
            self._device_topics.clear()
        self._device_topics[topic] = device
        return device

    def _readings(self, device_id: str, topic: str, payload: bytes) -> None:
        received = now_ms()
        record = self._registry.seen(device_id, received)
        placement = self.inventory.placement(device_id)
        if placement is None or not record.listed:
            self._unknown_device(record, topic, received)
            return
        device_id = placement.device.id  # the inventory's string: one copy per device
        message, shape, implausible = decode_readings(payload, topic=topic)
        for problem in implausible:  # the reading is refused, the others are stored
            self._announce.dead_letter(topic, payload, problem.reason, problem.where)
        clock_problem(message, received, topic=topic, shape=shape)
        self._guard_sensors(device_id, message, topic, shape)
        verdict = self._registry.message(record, message, received, shape)
        if record.sequence.missing:
            self._gaps.note(record, time.monotonic())
        self._ops.message(device_id, len(message.readings), received - message.ts, verdict)
        self._stats.readings += len(message.readings)
        for zone, lines, points in self._lines.lines(message, device_id, placement, shape):
            self._batch.add(self._databases.of(zone), lines, points)

    def _guard_sensors(
        self, device_id: str, message: MessageView, topic: str, shape: MessageShape | None
    ) -> None:
        """Devices with the same sensors share one set of their names."""
        known = self._sensors.get(device_id, _NO_NAMES)
        if shape is not None and known.issuperset(shape.sensors):  # the usual case
            return
        names = guard_sensor_names(known, device_id, message, topic)
        if names is not known:
            self._sensors[device_id] = self._name_sets.setdefault(names, names)

    def _alert_state(self, topic: str, payload: bytes) -> None:
        """The alerts service's view of an alert, stored in its site's zone for the
        dashboards' open-alerts panels."""
        try:
            state = decode(payload, AlertState, topic=topic)
            site = self.inventory.sites.get(state.site)
            if site is None:
                raise PayloadError(
                    f"site {state.site!r} is not in firmware-config", where="$.site", topic=topic
                )
        except PayloadError as exc:
            self._announce.dead_letter(topic, payload, exc.reason, exc.where)
            return
        self._batch.add(self._databases.of(site.zone), [alert_line(state)])

    def _unknown_device(self, record: DeviceRecord, topic: str, received: int) -> None:
        self._stats.unknown_device_messages += 1
        told = self._unknown_told.get(record.device_id)
        if told is None or received - told >= _UNKNOWN_EVENT_EVERY_MS:
            self._unknown_told[record.device_id] = received
            log.warning("unknown device %s publishes on %s; not stored", record.device_id, topic)
            detail = f"publishes on {topic} but is not listed in firmware-config; not stored"
            self._announce.event("unknown-device", record, detail)

    def _retained(self, device: wire_topics.DeviceTopic, topic: str, payload: bytes) -> None:
        """Status and config topics: the registry's view of the device."""
        device_id = device.device_id
        if device.kind is Kind.STATUS:
            status = decode(payload, Status, topic=topic) if payload else None
            self._registry.status(device_id, status)
        elif device.kind is Kind.CONFIG_DESIRED:
            desired = decode(payload, ConfigDesired, topic=topic) if payload else None
            self._registry.desired(device_id, desired)
        elif device.kind is Kind.CONFIG_REPORTED:
            reported = decode(payload, ConfigReported, topic=topic) if payload else None
            self._registry.reported(device_id, reported)
        elif device.kind is Kind.RELEASE_REPORTED:
            release = decode(payload, ReleaseReported, topic=topic) if payload else None
            self._registry.release(device_id, release)
