"""A quantity beyond a limit for a while: a cold room, an access point down.

Time past the limit is judged over the last ``for_min`` with tolerance, so noise around
the limit cannot keep restarting the clock: once a reading is past the limit, the
condition is pending until readings have stayed beyond the clear level (the hysteresis
band, default the limit itself) for ``tolerance_min``; it fires when it has been pending
``for_min`` and at least a third of that time was past the limit. A room flapping
9.9 / 10.1 °C is past 10 °C half of the time and fires; a room at 11 °C never does.

All sensors of one home and rule make one alert (all cold rooms in one message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts import schedule
from alerts.engine_types import Observation
from alerts.kinds.base import MIN, Behaviour
from alerts.rules import Threshold
from alerts.state import Detail, ThresholdState, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo

_SHARE_TO_FIRE = 1 / 3
_KEEP_FIRING_MIN = 10.0
_GAP_CAP_MS = 15 * MIN  # a reading stands for at most this long


class ThresholdBehaviour(Behaviour[Threshold]):
    def reading(
        self, rule: Threshold, engine: Engine, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        if rule.quantity != reading.quantity:
            return
        if rule.window and not schedule.in_window(reading.ts, rule.window, site.timezone):
            return
        member = f"{device}/{reading.sensor}"
        state = engine.state.thresholds.setdefault(
            alert_key(rule.id, site.id, device, reading.sensor), ThresholdState()
        )
        if reading.ts < state.last_ts:
            return  # older than what we know: the backlog behind live data
        previous_beyond = state.value is not None and _beyond(rule, state.value)
        if state.breach_since is not None and not state.firing and previous_beyond:
            state.beyond_ms += min(reading.ts - state.last_ts, _GAP_CAP_MS)
        state.last_ts, state.value = reading.ts, reading.value
        month = schedule.local(reading.ts, site.timezone).month
        in_season = not rule.months or month in rule.months
        sticky = state.firing or state.breach_since is not None
        if in_season and _breached(rule, reading.value, sticky=sticky):
            self._past(rule, engine, site, (member, state, reading))
        else:
            self._inside(rule, engine, site, (member, state, reading))

    def _past(
        self,
        rule: Threshold,
        engine: Engine,
        site: SiteInfo,
        what: tuple[str, ThresholdState, Observation],
    ) -> None:
        member, state, reading = what
        state.ok_since = state.clear_since = None
        if state.breach_since is None:
            state.breach_since, state.beyond_ms = reading.ts, 0
        if state.firing:
            engine.state.groups.setdefault(_group(rule, site), {})[member] = reading.value
            return
        span = reading.ts - state.breach_since
        due = span >= rule.for_min * MIN and (span == 0 or state.beyond_ms >= _SHARE_TO_FIRE * span)
        if due and engine.fresh(reading.ts):
            state.firing = True
            self._join(rule, engine, site, member, reading)
        elif span >= 2 * rule.for_min * MIN:
            # Mostly inside the band for long: judge the next window afresh.
            state.breach_since, state.beyond_ms = reading.ts, 0

    def _inside(
        self,
        rule: Threshold,
        engine: Engine,
        site: SiteInfo,
        what: tuple[str, ThresholdState, Observation],
    ) -> None:
        member, state, reading = what
        if state.firing:
            state.clear_since = state.clear_since or reading.ts
            keep = rule.keep_firing_min if rule.keep_firing_min is not None else _KEEP_FIRING_MIN
            if reading.ts - state.clear_since >= keep * MIN:
                state.firing, state.clear_since, state.breach_since = False, None, None
                self._leave(rule, engine, site, member, reading)
        elif state.breach_since is not None:
            state.ok_since = state.ok_since or reading.ts
            tolerance = rule.tolerance_min if rule.tolerance_min is not None else rule.for_min / 2
            if reading.ts - state.ok_since >= tolerance * MIN:
                state.breach_since = state.ok_since = None

    def _join(
        self, rule: Threshold, engine: Engine, site: SiteInfo, member: str, reading: Observation
    ) -> None:
        key = _group(rule, site)
        members = engine.state.groups.setdefault(key, {})
        first = not members
        members[member] = reading.value
        detail = _detail(rule, members)
        device, _, sensor = member.partition("/")
        if first:
            engine.fire(
                key,
                rule,
                site,
                reading.ts,
                device=device,
                sensor=sensor,
                value=reading.value,
                detail=detail,
            )
        else:
            engine.change("update", key, rule, site, reading.ts, detail=detail)

    def _leave(
        self, rule: Threshold, engine: Engine, site: SiteInfo, member: str, reading: Observation
    ) -> None:
        key = _group(rule, site)
        members = engine.state.groups.get(key, {})
        members.pop(member, None)
        if members:
            engine.change("update", key, rule, site, reading.ts, detail=_detail(rule, members))
            return
        engine.state.groups.pop(key, None)
        engine.resolve(key, rule, site, reading.ts, _detail(rule, {member: reading.value}))


def _group(rule: Threshold, site: SiteInfo) -> str:
    return alert_key(rule.id, site.id)


def _detail(rule: Threshold, members: dict[str, float | bool]) -> Detail:
    rooms = {
        member.partition("/")[2] or member.partition("/")[0]: v for member, v in members.items()
    }
    return Detail("threshold", {"quantity": rule.quantity, "rooms": rooms})


def _beyond(rule: Threshold, value: float | bool) -> bool:
    return _breached(rule, value, sticky=False)


def _breached(rule: Threshold, value: float | bool, *, sticky: bool) -> bool:
    """Past the limit; once pending or firing (``sticky``), past the clear level."""
    if rule.equals is not None:
        return value is rule.equals
    number = float(value)
    if rule.below is not None:
        limit = rule.clear_above if sticky and rule.clear_above is not None else rule.below
        return number < limit if not sticky else number <= limit
    assert rule.above is not None
    limit = rule.clear_below if sticky and rule.clear_below is not None else rule.above
    return number > limit if not sticky else number >= limit
