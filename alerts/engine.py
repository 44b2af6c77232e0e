"""The rule engine: readings and device status in, alert transitions out.

Event time, not arrival time: conditions are judged on the readings' own timestamps, so
a backlog replayed after an outage rebuilds the picture without alerting on the past:
a condition whose latest reading is older than ``STALE_AFTER_MS`` does not fire (a
panic press does, marked late: life safety is never dropped). A site with a device
offline is not observable: its inactivity, wake-up and night-door rules are held, IT
hears "device offline" instead, and the inactivity clock restarts when it is back. A
site whose devices have not all been heard from yet is commissioning: nothing is
expected of its resident until they have.

What each rule kind does lives in alerts/kinds/ (one module per kind); the engine only
routes inputs to every rule's behaviour and collects the transitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alerts import schedule
from alerts.derived import with_derived
from alerts.engine_types import Observation
from alerts.kinds import behaviour_of
from alerts.kinds.base import STALE_AFTER_MS
from alerts.rules import ACTIVITY, Rule, Severity
from alerts.sites import SiteInfo, Watch
from alerts.state import Change, Detail, EngineState, RoomState, Transition

__all__ = ["STALE_AFTER_MS", "Engine", "SiteInfo", "Watch"]


class Engine:
    def __init__(
        self,
        rules: Iterable[Rule],
        sites: dict[str, SiteInfo],
        state: EngineState | None = None,
        timezone: str = "Asia/Tokyo",
    ) -> None:
        self.rules = list(rules)
        self.sites = sites
        self.state = state or EngineState()
        self.city = SiteInfo("", "city", timezone, ())
        self.site_of = {device: site.id for site in sites.values() for device in site.devices}
        # Rules by site kind, chosen once: the engine looks them up for every reading.
        self._by_kind = {
            kind: [r for r in self.rules if r.sites in ("all", kind)]
            for kind in ("home", "facility")
        }
        self.now = 0
        self._out: list[Transition] = []

    # -- inputs --------------------------------------------------------------------------

    def start(self, now_ms: int) -> None:
        """The service starts watching (never-seen devices count from the first start)."""
        if not self.state.watch_started:
            self.state.watch_started = now_ms

    def observe(
        self, device: str, readings: Iterable[Observation], now_ms: int
    ) -> list[Transition]:
        site = self.sites.get(self.site_of.get(device, ""))
        if site is None:
            return []
        out = self._begin(now_ms)
        self._heard(site, device)
        rules = self._rules_for(site)
        for reading in with_derived(readings):
            if reading.quantity in ACTIVITY and reading.value is True:
                self._activity(site, reading)
            elif reading.quantity == "climate.temperature" and reading.sensor:
                rooms = self.state.temperatures.setdefault(site.id, {})
                rooms[reading.sensor] = float(reading.value)
            for rule in rules:
                behaviour_of(rule).reading(rule, self, site, device, reading)
        return out

    def device_online(self, device: str, online: bool, at_ms: int) -> list[Transition]:
        """The device's status (retained status topic, or the gateway's silence events);
        ``at_ms`` is when the news arrived, which is when it went offline for us."""
        site = self.sites.get(self.site_of.get(device, ""))
        if site is None:
            return []
        out = self._begin(at_ms)
        self._heard(site, device)  # even a last will says the device had connected
        if not online:
            self.state.offline.setdefault(device, at_ms)
            return out
        if self.state.offline.pop(device, None) is None:
            return out
        if self.observable(site):
            self.state.observable_since[site.id] = at_ms
        for rule in self._rules_for(site):
            behaviour_of(rule).device_back(rule, self, site, device)
        return out

    def service_event(
        self, kind: str, device: str, site: str, detail: str, now_ms: int
    ) -> list[Transition]:
        """The gateway's own events (unknown device, spool overflow)."""
        out = self._begin(now_ms)
        for rule in self.rules:
            behaviour_of(rule).service_event(rule, self, kind, device, site, detail)
        return out

    def tick(self, now_ms: int) -> list[Transition]:
        """Time-driven rules: inactivity, deadlines, night-door follow-up, offline..."""
        out = self._begin(now_ms)
        for site in self.sites.values():
            for rule in self._rules_for(site):
                behaviour_of(rule).tick(rule, self, site)
        for rule in self.rules:
            behaviour_of(rule).tick_city(rule, self)
        return out

    def set_away(self, site_id: str, until_ms: int | None, now_ms: int) -> None:
        """Away mode; when it ends, the inactivity clock starts afresh."""
        if until_ms is None or until_ms <= now_ms:
            if self.state.away.pop(site_id, None) is not None:
                self.state.observable_since[site_id] = now_ms
            return
        self.state.away[site_id] = until_ms

    def acknowledged_event(self, key: str) -> None:
        """An event alert (panic) closes when someone acknowledged it."""
        self.state.firing.pop(key, None)

    def forget(self, key: str) -> None:
        """An alert closed from outside (its rule removed): nothing of it is kept."""
        self.state.firing.pop(key, None)
        self.state.groups.pop(key, None)
        self.state.night_doors.pop(key, None)

    def closed_by_hand(self, key: str, site_id: str, now_ms: int) -> None:
        """The one who took the alert closed it: it is forgotten and its causes are
        judged afresh from now, so a cause that lasts fires again after its time (not at
        once, and not never)."""
        self.forget(key)
        self.state.observable_since[site_id] = now_ms  # silence is measured from now
        rule_and_site = "/".join(key.split("/")[:2]) + "/"
        for member, state in self.state.thresholds.items():
            if member.startswith(rule_and_site):
                state.firing, state.beyond_ms = False, 0
                state.breach_since = state.ok_since = state.clear_since = None

    # -- what behaviours ask ---------------------------------------------------------------

    def commissioned(self, site: SiteInfo) -> bool:
        return all(device in self.state.seen for device in site.devices)

    def observable(self, site: SiteInfo) -> bool:
        return not any(device in self.state.offline for device in site.devices)

    def expects_activity(self, site: SiteInfo) -> bool:
        """Commissioned, observable, and its resident is not away: silence means something."""
        return (
            self.commissioned(site)
            and self.observable(site)
            and self.state.away.get(site.id, 0) <= self.now
        )

    def fresh(self, ts: int) -> bool:
        """Recent enough to act on (not the backlog of an outage)."""
        return self.now - ts < STALE_AFTER_MS

    # -- what behaviours do ---------------------------------------------------------------

    def fire(
        self,
        key: str,
        rule: Rule,
        site: SiteInfo,
        at: int,
        *,
        device: str = "",
        sensor: str = "",
        severity: Severity | None = None,
        value: float | bool | None = None,
        detail: Detail | None = None,
        late: bool = False,
    ) -> None:
        self.state.firing[key] = at
        self._emit(
            key,
            rule,
            "fire",
            site,
            at,
            device=device,
            sensor=sensor,
            severity=severity,
            value=value,
            detail=detail,
            late=late,
        )

    def resolve(
        self, key: str, rule: Rule, site: SiteInfo, at: int, detail: Detail | None = None
    ) -> None:
        if self.state.firing.pop(key, None) is not None:
            self._emit(key, rule, "resolve", site, at, detail=detail)

    def change(
        self,
        change: Change,
        key: str,
        rule: Rule,
        site: SiteInfo,
        at: int,
        *,
        severity: Severity | None = None,
        detail: Detail | None = None,
        device: str = "",
        sensor: str = "",
    ) -> None:
        """Escalate or update an open alert, or note something for the morning summary."""
        self._emit(
            key,
            rule,
            change,
            site,
            at,
            severity=severity,
            detail=detail,
            device=device,
            sensor=sensor,
        )

    # -- plumbing ------------------------------------------------------------------------

    def _begin(self, now_ms: int) -> list[Transition]:
        """Start one call: transitions collect in the returned list."""
        self.now, self._out = now_ms, []
        return self._out

    def _rules_for(self, site: SiteInfo) -> list[Rule]:
        return self._by_kind.get(site.kind, [])

    def _heard(self, site: SiteInfo, device: str) -> None:
        if device in self.state.seen:
            return
        self.state.seen[device] = self.now
        for rule in self._rules_for(site):
            behaviour_of(rule).device_back(rule, self, site, device)
        if self.commissioned(site):
            self.state.observable_since[site.id] = self.now  # the watch starts now

    def _activity(self, site: SiteInfo, reading: Observation) -> None:
        self.state.activity[site.id] = max(self.state.activity.get(site.id, 0), reading.ts)
        first = self.state.day_first.get(site.id)
        day = schedule.local(reading.ts, site.timezone).date()
        if (
            first is None
            or schedule.local(first, site.timezone).date() < day
            or (reading.ts < first and schedule.local(first, site.timezone).date() == day)
        ):
            self.state.day_first[site.id] = reading.ts
        self._track_room(site, reading)
        for rule in self._rules_for(site):
            behaviour_of(rule).activity(rule, self, site, reading)

    def _track_room(self, site: SiteInfo, reading: Observation) -> None:
        room = self.state.rooms.get(site.id)
        if room is not None and reading.ts < room.last:
            return  # older than what we know
        if room is None or room.room != reading.sensor:
            self.state.rooms[site.id] = RoomState(reading.sensor, reading.ts, reading.ts)
        else:
            room.last = reading.ts

    def _emit(
        self, key: str, rule: Rule, change: Change, site: SiteInfo, at: int, **fields: Any
    ) -> None:
        severity = fields.pop("severity", None) or rule.severity
        self._out.append(
            Transition(
                key,
                rule,
                change,
                site.id,
                fields.get("device", ""),
                fields.get("sensor", ""),
                at,
                severity,
                fields.get("value"),
                fields.get("late", False),
                fields.get("detail"),
            )
        )


def site_prefix(rule: Rule, site: SiteInfo) -> str:
    """The start of every alert key of this rule at this site."""
    return f"{rule.id}/{site.id}/"
