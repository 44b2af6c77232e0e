"""Asking agents again for sequence numbers that never arrived.

A broker that crashes loses what it had acknowledged but not yet delivered (Mosquitto
saves its queues only every few seconds). The agent keeps acknowledged messages for a
while (``edge.outbox``), so the gateway, which sees the gap in the device's sequence,
asks for exactly those numbers with a ``resend`` command. A gap gets a grace period
first, because after an outage the agent sends live readings before its backlog and the
gap fills by itself; then the gateway asks with a growing pause, a bounded number of
times, and afterwards leaves the numbers counted as missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from gateway.config import ResendConfig
from gateway.registry_db import DeviceRecord
from wire import encode, topics
from wire.payloads import MAX_RESEND_RANGES, resend_request

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], None]


@dataclass
class _Asking:
    next_at: float
    tries: int = 0
    asked_up_to: int = -1
    gave_up: bool = False


class GapRepair:
    def __init__(self, publish: Publish, config: ResendConfig) -> None:
        self._publish = publish
        self._config = config
        self._asking: dict[str, _Asking] = {}

    def note(self, record: DeviceRecord, now: float) -> None:
        """A device's sequence has gaps: ask about them unless already asking. A gap
        above anything asked so far is new, so it gets the full number of tries."""
        missing = record.sequence.missing
        if not missing or self._config.tries == 0:
            return
        asking = self._asking.get(record.device_id)
        if asking is None:
            self._asking[record.device_id] = _Asking(now + self._config.after_s)
        elif missing[-1][1] > asking.asked_up_to and (asking.gave_up or asking.tries):
            asking.next_at, asking.tries, asking.gave_up = now + self._config.after_s, 0, False

    def check(self, records: Callable[[str], DeviceRecord | None], now: float, ts_ms: int) -> None:
        """Ask each device whose pause is over about what is still missing."""
        for device_id, asking in list(self._asking.items()):
            if asking.gave_up or now < asking.next_at:
                continue
            record = records(device_id)
            missing = record.sequence.missing if record else []
            if not missing:
                del self._asking[device_id]
                continue
            if asking.tries >= self._config.tries:
                count = sum(last - first + 1 for first, last in missing)
                log.warning("%s never sent %d messages again; they stay missing", device_id, count)
                asking.gave_up = True
                continue
            spans = missing[:MAX_RESEND_RANGES]
            request = resend_request(spans, ts_ms)
            self._publish(topics.command_request(device_id), encode(request))
            asking.tries += 1
            asking.asked_up_to = max(asking.asked_up_to, spans[-1][1])
            asking.next_at = now + self._config.after_s * 2**asking.tries
