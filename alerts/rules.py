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
from civic_iot import yamlconf
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
    # A resolved condition must stay resolved this long before the alert resolves.
    keep_firing_min: Minutes = 0
    # Only these months (1-12), e.g. summer heat; empty is all year.
    months: list[Annotated[int, msgspec.Meta(ge=1, le=12)]] = msgspec.field(default_factory=list)


class Inactivity(_Rule, tag="inactivity", frozen=True):
    """No activity from the site's sensors for ``hours`` (inside ``window`` if given)."""

    hours: Annotated[float, msgspec.Meta(gt=0, le=72)] = 12
    window: Window | None = None


class Deadline(_Rule, tag="deadline", frozen=True):
    """No activity between ``after`` and ``by`` local time (no wake-up by 10:00)."""

    by: ClockTime = "10:00"
    after: ClockTime = "04:00"


class Event(_Rule, tag="event", frozen=True):
    """A reading that is itself the alarm: a call button held for help."""

    quantity: str = "button.long_press"


class NightDoor(_Rule, tag="night-door", frozen=True):
    """The entrance opened during the night; escalates if nobody is active inside after,
    or at once when the resident's tag is no longer heard."""

    window: Window = "22:00-06:00"
    sensor: str = "entrance"
    follow_up_min: Minutes = 10


class LongStay(_Rule, tag="long-stay", frozen=True):
    """Someone went into ``sensor``'s room (the bathroom) and nothing moved elsewhere for
    ``max_min``: a fall in the bathroom."""

    sensor: str = "bathroom"
    max_min: Minutes = 60
    # When it applies (by the time of entering): at night the bathroom is often the
    # last room before bed, and there is no bedroom sensor to say so.
    window: Window | None = "06:00-22:00"


class SensorSilent(_Rule, tag="sensor-silent", frozen=True):
    """A sensor that used to report has sent nothing for ``after_min`` (flat battery,
    out of range), while its device is online."""

    quantity: str = "climate.temperature"
    after_min: Minutes = 120


class DeviceOffline(_Rule, tag="device-offline", frozen=True):
    """A device offline or silent this long (from its status and the gateway's events)."""

    after_min: Minutes = 10


Rule = (
    Threshold | Inactivity | Deadline | Event | NightDoor | LongStay | SensorSilent | DeviceOffline
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
