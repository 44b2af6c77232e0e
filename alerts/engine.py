"""The rule engine: readings and device status in, alert transitions out.

Event time, not arrival time: conditions are judged on the readings' own timestamps, so
a backlog replayed after an outage rebuilds the picture without alerting on the past:
a condition whose latest reading is older than ``stale_after_ms`` does not fire (a
panic press does, marked late: life safety is never dropped). A site with a device
offline is not observable: its inactivity, wake-up and night-door rules are held, IT
hears "device offline" instead, and the inactivity clock restarts when it is back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from alerts import schedule
from alerts.derived import with_derived
from alerts.engine_types import Observation
from alerts.rules import (
    ACTIVITY,
    Deadline,
    DeviceOffline,
    Event,
    Inactivity,
    LongStay,
    NightDoor,
    Rule,
    SensorSilent,
    Threshold,
)
from alerts.state import (
    Change,
    EngineState,
    NightDoorState,
    ThresholdState,
    Transition,
    alert_key,
)

STALE_AFTER_MS = 15 * 60_000
_MIN = 60_000


@dataclass(frozen=True)
class SiteInfo:
    id: str
    kind: str  # "home" or "facility"
    timezone: str
    devices: tuple[str, ...]


class Engine:
    def __init__(
        self, rules: Iterable[Rule], sites: dict[str, SiteInfo], state: EngineState | None = None
    ) -> None:
        self.rules = list(rules)
        self.sites = sites
        self.state = state or EngineState()
        self.site_of = {device: site.id for site in sites.values() for device in site.devices}
        # Rules by site kind, chosen once: the engine looks them up for every reading.
        self._by_kind = {
            kind: [r for r in self.rules if r.sites in ("all", kind)]
            for kind in ("home", "facility")
        }
        self._now = 0
        self._out: list[Transition] = []

    # -- inputs --------------------------------------------------------------------------

    def observe(
        self, device: str, readings: Iterable[Observation], now_ms: int
    ) -> list[Transition]:
        site = self.sites.get(self.site_of.get(device, ""))
        if site is None:
            return []
        out = self._begin(now_ms)
        for reading in with_derived(readings):
            if reading.quantity in ACTIVITY and reading.value is True:
                self._activity(site, reading)
            for rule in self._rules_for(site):
                if isinstance(rule, Threshold) and rule.quantity == reading.quantity:
                    self._threshold(rule, site, device, reading)
                elif isinstance(rule, Event) and rule.quantity == reading.quantity:
                    self._event(rule, site, device, reading)
                elif isinstance(rule, NightDoor) and reading.quantity == "door.open":
                    self._night_door(rule, site, device, reading)
                elif isinstance(rule, NightDoor) and reading.quantity == "tag.present":
                    self._tag_gone(rule, site, reading)
                elif isinstance(rule, SensorSilent) and rule.quantity == reading.quantity:
                    self._heard(rule, site, device, reading)
        return out

    def device_online(self, device: str, online: bool, ts_ms: int) -> list[Transition]:
        """The device's status (retained status topic, or the gateway's silence events)."""
        site = self.sites.get(self.site_of.get(device, ""))
        if site is None:
            return []
        out = self._begin(ts_ms)
        if not online:
            self.state.offline.setdefault(device, ts_ms)
            return out
        if self.state.offline.pop(device, None) is None:
            return out
        if not any(d in self.state.offline for d in site.devices):
            self.state.observable_since[site.id] = ts_ms
        for rule in self._rules_for(site):
            if isinstance(rule, DeviceOffline):
                self._resolve(alert_key(rule.id, site.id, device), rule, site, device, ts_ms)
        return out

    def tick(self, now_ms: int) -> list[Transition]:
        """Time-driven rules: inactivity, deadlines, night-door follow-up, offline."""
        out = self._begin(now_ms)
        for site in self.sites.values():
            for rule in self._rules_for(site):
                if isinstance(rule, Inactivity):
                    self._inactivity(rule, site)
                elif isinstance(rule, Deadline):
                    self._deadline(rule, site)
                elif isinstance(rule, NightDoor):
                    self._night_door_follow_up(rule, site)
                elif isinstance(rule, DeviceOffline):
                    self._offline(rule, site)
                elif isinstance(rule, LongStay):
                    self._long_stay(rule, site)
                elif isinstance(rule, SensorSilent):
                    self._silent_sensors(rule, site)
        return out

    def _begin(self, now_ms: int) -> list[Transition]:
        """Start one call: transitions collect in the returned list."""
        self._now, self._out = now_ms, []
        return self._out

    def observable(self, site: SiteInfo) -> bool:
        return not any(device in self.state.offline for device in site.devices)

    def expects_activity(self, site: SiteInfo) -> bool:
        """Observable, and its resident is not away: silence would mean something."""
        return self.observable(site) and self.state.away.get(site.id, 0) <= self._now

    def set_away(self, site_id: str, until_ms: int | None, now_ms: int) -> None:
        """Away mode; when it ends, the inactivity clock starts afresh."""
        if until_ms is None or until_ms <= now_ms:
            if self.state.away.pop(site_id, None) is not None:
                self.state.observable_since[site_id] = now_ms
            return
        self.state.away[site_id] = until_ms

    # -- rules ---------------------------------------------------------------------------

    def _rules_for(self, site: SiteInfo) -> list[Rule]:
        return self._by_kind.get(site.kind, [])

    def _threshold(
        self, rule: Threshold, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        key = alert_key(rule.id, site.id, device, reading.sensor)
        state = self.state.thresholds.setdefault(key, ThresholdState())
        if reading.ts < state.last_ts:
            return  # older than what we know: the backlog behind live data
        state.last_ts, state.value = reading.ts, reading.value
        month = schedule.local(reading.ts, site.timezone).month
        breached = (not rule.months or month in rule.months) and _breached(
            rule, reading.value, state.firing
        )
        if breached:
            state.clear_since = None
            state.breach_since = state.breach_since or reading.ts
            due = reading.ts - state.breach_since >= rule.for_min * _MIN
            if not state.firing and due and self._now - reading.ts < STALE_AFTER_MS:
                state.firing = True
                self._on_reading(key, rule, "fire", (site, device), reading)
            return
        state.breach_since = None
        if state.firing:
            state.clear_since = state.clear_since or reading.ts
            if reading.ts - state.clear_since >= rule.keep_firing_min * _MIN:
                state.firing, state.clear_since = False, None
                self._on_reading(key, rule, "resolve", (site, device), reading)

    def _event(self, rule: Event, site: SiteInfo, device: str, reading: Observation) -> None:
        if reading.value is not True:
            return
        key = alert_key(rule.id, site.id, device, reading.sensor)
        if key in self.state.firing:
            return  # still open: one press while waiting for acknowledgement is enough
        self.state.firing[key] = reading.ts
        late = self._now - reading.ts >= STALE_AFTER_MS
        self._on_reading(key, rule, "fire", (site, device), reading, late=late)

    def _activity(self, site: SiteInfo, reading: Observation) -> None:
        self.state.activity[site.id] = max(self.state.activity.get(site.id, 0), reading.ts)
        last = self.state.last_room.get(site.id)
        if last is None or reading.ts >= last[1]:
            self.state.last_room[site.id] = (reading.sensor, reading.ts)
        for rule in self._rules_for(site):
            if isinstance(rule, LongStay) and reading.sensor != rule.sensor:
                self._resolve(alert_key(rule.id, site.id), rule, site, "", reading.ts)
            if isinstance(rule, Inactivity | Deadline):
                self._resolve(alert_key(rule.id, site.id), rule, site, "", reading.ts)
            if isinstance(rule, NightDoor) and reading.quantity == "motion.detected":
                for key, door in list(self.state.night_doors.items()):
                    if key.startswith(f"{rule.id}/{site.id}/") and reading.ts >= door.opened_ts:
                        del self.state.night_doors[key]
                        self._resolve(key, rule, site, "", reading.ts)

    def _inactivity(self, rule: Inactivity, site: SiteInfo) -> None:
        key = alert_key(rule.id, site.id)
        if key in self.state.firing or not self.expects_activity(site):
            return
        if rule.window and not schedule.in_window(self._now, rule.window, site.timezone):
            return
        since = max(
            self.state.activity.get(site.id, 0), self.state.observable_since.get(site.id, 0)
        )
        if since == 0:
            self.state.observable_since[site.id] = self._now  # first look: start the clock
            return
        if self._now - since >= rule.hours * 3_600_000:
            self._fire(key, rule, site, "", since)

    def _deadline(self, rule: Deadline, site: SiteInfo) -> None:
        start = schedule.at_local(self._now, rule.after, site.timezone)
        due = schedule.at_local(self._now, rule.by, site.timezone)
        key = alert_key(rule.id, site.id)
        if not start <= due <= self._now or key in self.state.firing:
            return
        if not self.expects_activity(site):
            return
        active = self.state.activity.get(site.id, 0) >= start
        watched = self.state.observable_since.get(site.id, self._now) <= start
        if not active and watched:
            self._fire(key, rule, site, "", due)
            self.state.firing[key] = due

    def _night_door(
        self, rule: NightDoor, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        if reading.value is not True or reading.sensor != rule.sensor:
            return
        if self._now - reading.ts >= STALE_AFTER_MS or not schedule.in_window(
            reading.ts, rule.window, site.timezone
        ):
            return
        key = alert_key(rule.id, site.id, device, reading.sensor)
        if key in self.state.night_doors or not self.expects_activity(site):
            return
        self.state.night_doors[key] = NightDoorState(reading.ts)
        self._fire(key, rule, site, device, reading.ts, sensor=reading.sensor)

    def _night_door_follow_up(self, rule: NightDoor, site: SiteInfo) -> None:
        follow_up = rule.follow_up_min * _MIN
        self._escalate_doors(rule, site, self._now, lambda d: self._now - d.opened_ts >= follow_up)

    def _tag_gone(self, rule: NightDoor, site: SiteInfo, reading: Observation) -> None:
        """The tag is no longer heard after a night door: the resident has gone out."""
        if reading.value is False:
            self._escalate_doors(rule, site, reading.ts, lambda d: reading.ts >= d.opened_ts)

    def _escalate_doors(
        self, rule: NightDoor, site: SiteInfo, at: int, due: Callable[[NightDoorState], bool]
    ) -> None:
        """Escalate the site's open night doors for which ``due`` holds, once each."""
        for key, door in self.state.night_doors.items():
            if key.startswith(f"{rule.id}/{site.id}/") and not door.escalated and due(door):
                door.escalated = True
                _, _, device, sensor = key.split("/")
                self._out.append(
                    Transition(key, rule, "escalate", site.id, device, sensor, at, "urgent")
                )

    def _long_stay(self, rule: LongStay, site: SiteInfo) -> None:
        key = alert_key(rule.id, site.id)
        room, since = self.state.last_room.get(site.id, ("", 0))
        if room != rule.sensor or key in self.state.firing or not self.expects_activity(site):
            return
        if rule.window and not schedule.in_window(since, rule.window, site.timezone):
            return
        if self._now - since >= rule.max_min * _MIN and self._now - since < 12 * 3_600_000:
            self._fire(key, rule, site, "", since, sensor=room)

    def _heard(self, rule: SensorSilent, site: SiteInfo, device: str, reading: Observation) -> None:
        key = f"{device}/{reading.sensor}/{rule.quantity}"
        self.state.last_reading[key] = max(self.state.last_reading.get(key, 0), reading.ts)
        alert = alert_key(rule.id, site.id, device, reading.sensor)
        self._resolve(alert, rule, site, device, reading.ts)

    def _silent_sensors(self, rule: SensorSilent, site: SiteInfo) -> None:
        for device in site.devices:
            if device in self.state.offline:
                continue  # the device alert covers it
            prefix = f"{device}/"
            for key, last in self.state.last_reading.items():
                if not key.startswith(prefix) or not key.endswith(f"/{rule.quantity}"):
                    continue
                sensor = key[len(prefix) : -len(rule.quantity) - 1]
                alert = alert_key(rule.id, site.id, device, sensor)
                if alert not in self.state.firing and self._now - last >= rule.after_min * _MIN:
                    self._fire(alert, rule, site, device, last, sensor=sensor)

    def _offline(self, rule: DeviceOffline, site: SiteInfo) -> None:
        for device in site.devices:
            since = self.state.offline.get(device)
            key = alert_key(rule.id, site.id, device)
            if (
                since is not None
                and key not in self.state.firing
                and self._now - since >= rule.after_min * _MIN
            ):
                self._fire(key, rule, site, device, since)

    # -- plumbing ------------------------------------------------------------------------

    def _on_reading(
        self,
        key: str,
        rule: Rule,
        change: Change,
        where: tuple[SiteInfo, str],
        reading: Observation,
        *,
        late: bool = False,
    ) -> None:
        """A transition caused by one reading: its sensor, time and value."""
        site, device = where
        self._out.append(Transition(key, rule, change, site.id, device, reading.sensor,
                                    reading.ts, rule.severity, reading.value, late))  # fmt: skip

    def _fire(  # noqa: PLR0917 - the fields of one Transition
        self, key: str, rule: Rule, site: SiteInfo, device: str, at: int, sensor: str = ""
    ) -> None:
        self.state.firing[key] = at
        self._out.append(Transition(key, rule, "fire", site.id, device, sensor, at, rule.severity))

    def _resolve(self, key: str, rule: Rule, site: SiteInfo, device: str, at: int) -> None:
        if self.state.firing.pop(key, None) is not None:
            self._out.append(
                Transition(key, rule, "resolve", site.id, device, "", at, rule.severity)
            )

    def acknowledged_event(self, key: str) -> None:
        """An event alert (panic) closes when someone acknowledged it."""
        self.state.firing.pop(key, None)


def _breached(rule: Threshold, value: float | bool, firing: bool) -> bool:
    if rule.equals is not None:
        return value is rule.equals
    number = float(value)
    if rule.below is not None:
        limit = rule.clear_above if firing and rule.clear_above is not None else rule.below
        return number < limit if not firing else number <= limit
    assert rule.above is not None
    limit = rule.clear_below if firing and rule.clear_below is not None else rule.above
    return number > limit if not firing else number >= limit
