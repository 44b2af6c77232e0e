"""The engine's memory between readings: what each rule has seen, in event time.

All of it is a msgspec Struct so the service can persist it and a restart neither
forgets a pending condition nor fires again what already fired.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import msgspec

from alerts.rules import Rule, Severity

Change = Literal["fire", "resolve", "escalate"]


class ThresholdState(msgspec.Struct):
    last_ts: int = 0
    breach_since: int | None = None
    clear_since: int | None = None
    firing: bool = False
    value: float | bool | None = None


class NightDoorState(msgspec.Struct):
    opened_ts: int
    escalated: bool = False


class EngineState(msgspec.Struct):
    thresholds: dict[str, ThresholdState] = msgspec.field(default_factory=dict)
    # Site -> event time of the latest sign of activity.
    activity: dict[str, int] = msgspec.field(default_factory=dict)
    # Site -> since when all its devices are online (activity is observable).
    observable_since: dict[str, int] = msgspec.field(default_factory=dict)
    # Device -> since when it is offline or silent.
    offline: dict[str, int] = msgspec.field(default_factory=dict)
    night_doors: dict[str, NightDoorState] = msgspec.field(default_factory=dict)
    # Keys of alerts firing now (inactivity, deadline, offline, events).
    firing: dict[str, int] = msgspec.field(default_factory=dict)
    # Site -> (sensor, event time) of the latest activity, for long stays.
    last_room: dict[str, tuple[str, int]] = msgspec.field(default_factory=dict)
    # "device/sensor/quantity" -> event time of its latest reading, for silent sensors.
    last_reading: dict[str, int] = msgspec.field(default_factory=dict)
    # Site -> until when its resident is away (holiday, hospital): no activity expected.
    away: dict[str, int] = msgspec.field(default_factory=dict)


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


def alert_key(rule_id: str, site: str, device: str = "", sensor: str = "") -> str:
    return "/".join((rule_id, site, device, sensor))
