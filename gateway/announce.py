"""What the gateway says on the bus besides storing: events for people (a device gone
silent, an unknown device, the spool full), dead letters with the reason, and resend
requests to agents. All bounded by the broker's packet limit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from gateway.registry_db import DeviceRecord
from gateway.stats import IngestStats
from wire import ServiceEvent, encode, now_ms, topics
from wire.payloads import ServiceEventKind
from wire.payloads import dead_letter as wire_dead_letter

log = logging.getLogger(__name__)
QOS = 1
Publish = Callable[..., bool]


class Announcer:
    def __init__(self, gateway_id: str, publish: Publish, stats: IngestStats) -> None:
        self._publish = publish
        self._stats = stats
        self._event_topic = topics.service_event(gateway_id)
        self._dead_letter_topic = topics.dead_letter(gateway_id)

    def event(self, kind: ServiceEventKind, record: DeviceRecord | None, detail: str) -> None:
        message = ServiceEvent(
            schema=1,
            kind=kind,
            ts=now_ms(),
            device=record.device_id if record else "",
            site=record.site if record else "",
            detail=detail,
        )
        self._publish(self._event_topic, encode(message), qos=QOS)

    def dead_letter(self, topic: str, payload: bytes, reason: str, where: str) -> None:
        self._stats.dead_letters += 1
        letter = wire_dead_letter(topic, payload, reason, where, now_ms())
        self._publish(self._dead_letter_topic, encode(letter), qos=QOS)
        log.debug("dead letter from %s at %s: %s", topic, where, reason)

    def command(self, topic: str, payload: bytes) -> None:
        """A resend request to an agent (gateway/gaps.py)."""
        self._stats.resend_requests += 1
        self._publish(topic, payload, qos=QOS)
