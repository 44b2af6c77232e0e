"""From the outbox to the broker: events first, then live readings, then the backlog.

After an outage the outbox may hold hours of readings. "Live" is what was stored after
the link came back (row id above the boundary taken at connect); the backlog is the
rest. Each pump hands the broker, in this order: events (a door, a panic button) of any
age, live routine messages, and backlog messages at a bounded rate. The backlog never
takes the whole in-flight window, so live messages always find room.

Rows handed to paho stay in paho's session until their PUBACK (paho resends them after
a reconnect), so they are not handed again; their ids are removed from the outbox when
the PUBACK arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from edge.clock import SYSTEM_CLOCK, Clock
from edge.outbox import EVENT, ROUTINE, Outbox, Row

Publish = Callable[[str, bytes], int]  # returns the MQTT message id


class SenderSettings(NamedTuple):
    window: int = 100  # messages handed to the broker and not yet acknowledged
    backlog_share: float = 0.75  # of the window the backlog may use
    backlog_rate: float = 2000.0  # messages per second


class TokenBucket:
    def __init__(self, rate: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self.rate = rate
        self.capacity = max(1.0, rate / 10)
        self.tokens = self.capacity
        self.updated = clock.monotonic()

    def available(self) -> int:
        now = self._clock.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return int(self.tokens)

    def spend(self, count: int) -> None:
        self.tokens -= count

    def seconds_until_one(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate)


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        settings: SenderSettings,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.outbox = outbox
        self.publish = publish
        self.settings = settings
        self.connected = False
        self._bucket = TokenBucket(settings.backlog_rate, clock)
        self._in_flight: dict[int, int] = {}  # message id -> row id
        self._handed: set[int] = set()  # row ids in paho's session
        self._event_cursor = 0
        self._live_cursor = 0
        self._backlog_cursor = 0
        self._boundary = 0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def link_up(self) -> None:
        """The link is back: what is stored so far is backlog, what comes next is live."""
        self.connected = True
        self._boundary = self.outbox.last_id()
        self._live_cursor = max(self._live_cursor, self._boundary)

    def link_down(self) -> None:
        self.connected = False

    def acknowledged(self, message_ids: Iterable[int]) -> None:
        rows = [self._in_flight.pop(mid) for mid in message_ids if mid in self._in_flight]
        self._handed.difference_update(rows)
        self.outbox.remove(rows)

    def backlog_pending(self) -> bool:
        return self._backlog_cursor < self._boundary

    def next_pump_in(self) -> float | None:
        """When the backlog may send again, if it is only waiting for its rate."""
        if not (self.connected and self.backlog_pending()):
            return None
        return self._bucket.seconds_until_one()

    def pump(self) -> int:
        """Hand the broker what fits in the window now; the number handed."""
        if not self.connected:
            return 0
        handed = self._send_events() + self._send_live()
        return handed + self._send_backlog()

    def _room(self) -> int:
        return self.settings.window - len(self._in_flight)

    def _send_events(self) -> int:
        rows = self.outbox.take(EVENT, self._event_cursor, 2**62, self._room())
        if rows:
            self._event_cursor = rows[-1].id
        return self._hand(rows)

    def _send_live(self) -> int:
        rows = self.outbox.take(ROUTINE, self._live_cursor, 2**62, self._room())
        if rows:
            self._live_cursor = rows[-1].id
        return self._hand(rows)

    def _send_backlog(self) -> int:
        share = int(self.settings.window * self.settings.backlog_share)
        room = min(self._room() - (self.settings.window - share), self._bucket.available())
        if room <= 0 or not self.backlog_pending():
            return 0
        # Rows already in paho's session are skipped, so fetch enough to fill the room.
        limit = room + len(self._handed)
        rows = self.outbox.take(ROUTINE, self._backlog_cursor, self._boundary, limit)
        chosen: list[Row] = []
        for row in rows:
            if len(chosen) == room:
                break
            self._backlog_cursor = row.id
            if row.id not in self._handed:
                chosen.append(row)
        if len(rows) < limit and len(chosen) < room:
            self._backlog_cursor = self._boundary
        handed = self._hand(chosen)
        self._bucket.spend(handed)
        return handed

    def _hand(self, rows: Iterable[Row]) -> int:
        count = 0
        for row in rows:
            message_id = self.publish(row.topic, row.payload)
            self._in_flight[message_id] = row.id
            self._handed.add(row.id)
            count += 1
        return count
