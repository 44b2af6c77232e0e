"""Alert rules as data: alerts/rules/*.yaml (the city's defaults) plus the operator's own
files, validated strictly at load; a rule with the same ID in a later file replaces the
earlier one, so a site can override a default without editing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from alerts.derived import DERIVED
from alerts.schedule import ClockTime, Window
from common import yamlconf
from wire import CATALOGUE, ValueType
from wire.payloads import AlertSeverity, RuleId

DEFAULT_RULES = Path(__file__).parent / "rules"
Minutes = Annotated[float, msgspec.Meta(ge=0, le=7 * 24 * 60)]
Severity = AlertSeverity
Audience = Literal["caregivers", "facility", "it"]
Sites = Literal["home", "facility", "all"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "urgent": 2, "life-safety": 3}


class Text(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    ja: str
    en: str


class _Rule(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag_field="kind"):
    id: RuleId
    title: Text
    # What the person told should do; in the message, in their language.
    advice: Text
    severity: Severity = "warning"
    audience: Audience = "caregivers"
    sites: Sites = "home"
    enabled: bool = True
    # Unacknowledged alerts are repeated to the last step at most this often; None: the
    # default for its audience and severity (IT hourly, info daily, others repeat_min).
    repeat_min: Minutes | None = None


class Threshold(_Rule, tag="threshold", frozen=True):
    """A quantity beyond a limit for a while (cold room, AP down, battery low...)."""

    quantity: str = ""
    below: float | None = None
    above: float | None = None
    equals: bool | None = None
    # Hysteresis: once firing, it resolves only beyond this value (default: the limit).
    clear_below: float | None = None
    clear_above: float | None = None
    for_min: Minutes = 0
    # Time past the limit is judged with tolerance: a pending condition survives
    # readings back inside the limit (or inside the hysteresis band) for up to this long,
    # so a room hovering around 10 °C still reaches the alert. None: half of for_min.
    tolerance_min: Minutes | None = None
    # A resolved condition must stay resolved this long before the alert resolves.
    # None: 10 minutes (a value hovering at the clear level does not resolve and fire
    # again every few minutes).
    keep_firing_min: Minutes | None = None
    # Only these months (1-12), e.g. summer heat; empty is all year.
    months: list[Annotated[int, msgspec.Meta(ge=1, le=12)]] = msgspec.field(default_factory=list)
    # Only readings taken inside this local window count (others are ignored: the
    # condition neither starts, advances nor clears), e.g. a cool bedroom at night.
    window: Window | None = None


class Inactivity(_Rule, tag="inactivity", frozen=True):
    """No activity from the site's sensors for ``hours`` (inside ``window`` if given)."""

    hours: Annotated[float, msgspec.Meta(gt=0, le=72)] = 12
    window: Window | None = None


class Deadline(_Rule, tag="deadline", frozen=True):
    """No activity between ``after`` and ``by`` local time (no wake-up by 10:00); a
    resident's own ``wake_up_by`` (residents file) replaces ``by``."""

    by: ClockTime = "10:00"
    after: ClockTime = "04:00"


class Event(_Rule, tag="event", frozen=True):
    """A reading that is itself the alarm: a call button held for help."""

    quantity: str = "button.long_press"


class NightDoor(_Rule, tag="night-door", frozen=True):
    """The entrance opened during the night (the resident's own ``night`` window from the
    residents file, else ``window``). Motion indoors within ``follow_up_min`` means they
    came back: nothing is sent (the morning summary mentions it). No motion by then: the
    alert fires, telling the whole story. The tag no longer heard: urgent at once."""

    window: Window = "22:00-06:00"
    sensor: str = "entrance"
    follow_up_min: Minutes = 10


class LongStay(_Rule, tag="long-stay", frozen=True):
    """Someone went into one of ``sensors``' rooms (bathroom, toilet) and nothing moved
    elsewhere for ``max_min`` since they went in: a fall. Day and night; between
    ``night`` hours the limit is ``night_max_min`` (see docs/decisions.md)."""

    sensors: list[str] = msgspec.field(
        default_factory=lambda: ["bathroom", "bath", "toilet", "wc", "restroom", "washroom"]
    )
    max_min: Minutes = 60
    night: Window = "22:00-06:00"
    night_max_min: Minutes | None = None  # None: the same as max_min


class SensorSilent(_Rule, tag="sensor-silent", frozen=True):
    """A sensor that used to report has sent nothing for ``after_min`` (flat battery,
    out of range), while its device is online."""

    quantity: str = "climate.temperature"
    after_min: Minutes = 120


class DeviceOffline(_Rule, tag="device-offline", frozen=True):
    """A device offline or silent this long, counted from when its last will or the
    gateway's silence event arrived. A device never heard from since the service started
    watching is "commissioning": IT is told once, after ``after_min`` too."""

    after_min: Minutes = 10


class ServiceEvent(_Rule, tag="service-event", frozen=True):
    """The gateway's events that people must hear about: a device not in firmware-config
    publishing, the gateway's spool overflowing. One alert per device (or gateway),
    closed after ``clear_after_min`` without another such event."""

    event: Literal["unknown-device", "spool-overflow"] = "unknown-device"
    clear_after_min: Minutes = 24 * 60


Rule = (
    Threshold
    | Inactivity
    | Deadline
    | Event
    | NightDoor
    | LongStay
    | SensorSilent
    | DeviceOffline
    | ServiceEvent
)
# Readings that show a resident is up and about.
ACTIVITY = frozenset({"motion.detected", "door.open", "button.pressed"})


class RuleFile(msgspec.Struct, forbid_unknown_fields=True):
    rules: list[Rule]


def load_rules(directories: Sequence[Path]) -> dict[str, Rule]:
    """Rules from every *.yaml of each directory in order; later IDs replace earlier."""
    rules: dict[str, Rule] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            document = yamlconf.read(path)
            loaded = yamlconf.convert(document, RuleFile)
            for index, rule in enumerate(loaded.rules):
                _check(document, f"$.rules[{index}]", rule)
                rules[rule.id] = rule
    return {rule_id: rule for rule_id, rule in rules.items() if rule.enabled}


def _check(document: yamlconf.Document, where: str, rule: Rule) -> None:
    if isinstance(rule, Threshold) and rule.quantity in DERIVED:
        if rule.equals is not None:
            raise document.error(where, f"{rule.quantity} needs below or above")
        return
    if isinstance(rule, Threshold | Event | SensorSilent):
        quantity = CATALOGUE.get(rule.quantity)
        if quantity is None:
            raise document.error(f"{where}.quantity", f"unknown quantity {rule.quantity!r}")
        if isinstance(rule, Event) and quantity.type is not ValueType.BOOL:
            raise document.error(f"{where}.quantity", "an event rule needs a true/false quantity")
    if isinstance(rule, Threshold):
        limits = [rule.below is not None, rule.above is not None, rule.equals is not None]
        if sum(limits) != 1:
            raise document.error(
                where, "a threshold rule needs exactly one of below, above, equals"
            )
        is_bool = CATALOGUE[rule.quantity].type is ValueType.BOOL
        if is_bool != (rule.equals is not None):
            expected = "equals: true|false" if is_bool else "below or above"
            raise document.error(where, f"{rule.quantity} needs {expected}")
