"""The engine's memory between readings: what each rule has seen, in event time.

All of it is a msgspec Struct so the service can persist it and a restart neither
forgets a pending condition nor fires again what already fired.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import msgspec

from alerts.rules import Rule, Severity
from wire.payloads import MAX_AHEAD_MS

# fire/resolve/escalate change an alert; update changes what an open alert says without
# telling anyone; note is something for the morning summary only (no alert).
Change = Literal["fire", "resolve", "escalate", "update", "note"]


class Detail(msgspec.Struct, frozen=True):
    """What happened, in words from the message catalogue (alerts/messages.py):
    a code and its arguments (times are epoch ms, rooms are sensor names)."""

    code: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)


class ThresholdState(msgspec.Struct):
    last_ts: int = 0
    breach_since: int | None = None
    # A pending breach: since when readings are back inside (within tolerance).
    ok_since: int | None = None
    # Of the pending time, how long readings were past the limit itself.
    beyond_ms: int = 0
    clear_since: int | None = None
    firing: bool = False
    value: float | bool | None = None


class NightDoorState(msgspec.Struct):
    opened_ts: int
    fired: bool = False
    escalated: bool = False


class RoomState(msgspec.Struct):
    """Where the resident was last seen, and since when they are in that room."""

    room: str
    entered: int
    last: int


class EngineState(msgspec.Struct):
    thresholds: dict[str, ThresholdState] = msgspec.field(default_factory=dict)
    # Threshold alert (one per rule and site) -> its members ("device/sensor") beyond
    # the limit now, with their latest value.
    groups: dict[str, dict[str, float | bool]] = msgspec.field(default_factory=dict)
    # Site -> event time of the latest sign of activity.
    activity: dict[str, int] = msgspec.field(default_factory=dict)
    # Site -> since when all its devices are online (activity is observable).
    observable_since: dict[str, int] = msgspec.field(default_factory=dict)
    # Device -> since when it is offline or silent (arrival time of the news).
    offline: dict[str, int] = msgspec.field(default_factory=dict)
    # Device -> when it was first heard from; a site is commissioning until all are.
    seen: dict[str, int] = msgspec.field(default_factory=dict)
    # When this service started watching (never-seen devices count from here).
    watch_started: int = 0
    night_doors: dict[str, NightDoorState] = msgspec.field(default_factory=dict)
    # Keys of alerts firing now (inactivity, deadline, offline, events).
    firing: dict[str, int] = msgspec.field(default_factory=dict)
    # Site -> the room of the latest activity, for long stays.
    rooms: dict[str, RoomState] = msgspec.field(default_factory=dict)
    # Site -> event time of the first sign of activity of its local day (the daily
    # message's "up at"), and site -> room -> its latest temperature.
    day_first: dict[str, int] = msgspec.field(default_factory=dict)
    temperatures: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    # "device/sensor/quantity" -> event time of its latest reading, for silent sensors.
    last_reading: dict[str, int] = msgspec.field(default_factory=dict)
    # Site -> until when its resident is away (holiday, hospital): no activity expected.
    away: dict[str, int] = msgspec.field(default_factory=dict)
    # Service-event alert key -> time of the latest such event.
    events: dict[str, int] = msgspec.field(default_factory=dict)

    def repair(self, now_ms: int) -> list[str]:
        """Forget times further in the future than a clock may drift (a state saved by
        an older release that accepted them); returns what was repaired."""
        limit = now_ms + MAX_AHEAD_MS
        repaired: list[str] = []
        for name in ("activity", "firing", "last_reading", "seen", "events", "offline"):
            table: dict[str, int] = getattr(self, name)
            for key in [k for k, ts in table.items() if ts > limit]:
                del table[key]
                repaired.append(f"{name}[{key}]")
        for key in [k for k, s in self.thresholds.items() if s.last_ts > limit]:
            del self.thresholds[key]
            repaired.append(f"thresholds[{key}]")
        for key in [k for k, r in self.rooms.items() if r.last > limit or r.entered > limit]:
            del self.rooms[key]
            repaired.append(f"rooms[{key}]")
        for key in [k for k, d in self.night_doors.items() if d.opened_ts > limit]:
            del self.night_doors[key]
            repaired.append(f"night_doors[{key}]")
        if self.watch_started > limit:
            self.watch_started = now_ms
            repaired.append("watch_started")
        return repaired


class Transition(NamedTuple):
    """An alert fired, resolved or escalated; ``key`` names the alert instance."""

    key: str
    rule: Rule
    change: Change
    site: str
    device: str
    sensor: str
    at_ms: int
    severity: Severity
    value: float | bool | None = None
    late: bool = False
    detail: Detail | None = None


def alert_key(rule_id: str, site: str, device: str = "", sensor: str = "") -> str:
    return "/".join((rule_id, site, device, sensor))
