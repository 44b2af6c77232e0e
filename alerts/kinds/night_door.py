"""The entrance opened in the night.

Nothing is sent when the door opens: a resident who fetches the newspaper is back
inside within minutes, and motion indoors within ``follow_up_min`` closes the matter
silently (the morning summary mentions it). With no motion by then the alert fires,
telling the whole story (when the door opened, nothing moved since). The resident's tag
no longer heard after the door opened means they went out: urgent at once, again with
the whole story, or as an escalation when the first message already went out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts import schedule
from alerts.engine_types import Observation
from alerts.kinds.base import MIN, Behaviour
from alerts.rules import NightDoor, Severity
from alerts.state import Detail, NightDoorState, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo

# Motion this soon after the door opened may be the resident on their way out.
_LEAVING_MS = 30_000


class NightDoorBehaviour(Behaviour[NightDoor]):
    def reading(
        self, rule: NightDoor, engine: Engine, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        if reading.quantity == "door.open" and reading.value is True:
            # The entrance, also as part of a longer name ("entrance-1f", "main-entrance").
            if rule.sensor in (reading.sensor, *reading.sensor.split("-")):
                self._opened(rule, engine, site, device, reading)
        elif reading.quantity == "tag.present" and reading.value is False:
            self._tag_gone(rule, engine, site, reading)

    def _opened(
        self, rule: NightDoor, engine: Engine, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        window = site.watch.night or rule.window
        if not engine.fresh(reading.ts) or not schedule.in_window(
            reading.ts, window, site.timezone
        ):
            return
        key = alert_key(rule.id, site.id, device, reading.sensor)
        if key in engine.state.night_doors or not engine.expects_activity(site):
            return
        engine.state.night_doors[key] = NightDoorState(reading.ts)

    def activity(
        self, rule: NightDoor, engine: Engine, site: SiteInfo, reading: Observation
    ) -> None:
        if reading.quantity != "motion.detected":
            return
        for key, door in self._doors(rule, engine, site):
            if reading.ts < door.opened_ts + _LEAVING_MS:
                continue
            del engine.state.night_doors[key]
            detail = Detail(
                "night-door-back",
                {
                    "door": rule.sensor,
                    "opened": door.opened_ts,
                    "back": reading.ts,
                    "room": reading.sensor,
                },
            )
            if door.fired:
                engine.resolve(key, rule, site, reading.ts, detail)
            else:
                engine.change("note", key, rule, site, reading.ts, detail=detail)

    def tick(self, rule: NightDoor, engine: Engine, site: SiteInfo) -> None:
        for key, door in self._doors(rule, engine, site):
            if door.fired or engine.now - door.opened_ts < rule.follow_up_min * MIN:
                continue
            door.fired = True
            detail = Detail(
                "night-door-open",
                {"door": rule.sensor, "opened": door.opened_ts, "minutes": rule.follow_up_min},
            )
            _fire(engine, rule, site, (key, door), detail)

    def _tag_gone(
        self, rule: NightDoor, engine: Engine, site: SiteInfo, reading: Observation
    ) -> None:
        for key, door in self._doors(rule, engine, site):
            if reading.ts < door.opened_ts or door.escalated:
                continue
            detail = Detail(
                "night-door-tag-gone",
                {"door": rule.sensor, "opened": door.opened_ts, "gone": reading.ts},
            )
            door.escalated = True
            if door.fired:
                engine.change(
                    "escalate", key, rule, site, reading.ts, severity="urgent", detail=detail
                )
            else:
                door.fired = True
                _fire(engine, rule, site, (key, door), detail, severity="urgent")

    def _doors(
        self, rule: NightDoor, engine: Engine, site: SiteInfo
    ) -> list[tuple[str, NightDoorState]]:
        prefix = f"{rule.id}/{site.id}/"
        return [(k, d) for k, d in engine.state.night_doors.items() if k.startswith(prefix)]


def _fire(
    engine: Engine,
    rule: NightDoor,
    site: SiteInfo,
    open_door: tuple[str, NightDoorState],
    detail: Detail,
    *,
    severity: Severity | None = None,
) -> None:
    key, door = open_door
    engine.fire(key, rule, site, door.opened_ts, device=key.split("/")[2], sensor=rule.sensor,
                severity=severity, detail=detail)  # fmt: skip
