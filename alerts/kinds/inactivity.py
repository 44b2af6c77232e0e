"""No sign of activity for ``hours`` (a resident's own hours from the residents file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts import schedule
from alerts.engine_types import Observation
from alerts.kinds.base import HOUR, Behaviour
from alerts.rules import Inactivity
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo


class InactivityBehaviour(Behaviour[Inactivity]):
    def tick(self, rule: Inactivity, engine: Engine, site: SiteInfo) -> None:
        key = alert_key(rule.id, site.id)
        if key in engine.state.firing or not engine.expects_activity(site):
            return
        if rule.window and not schedule.in_window(engine.now, rule.window, site.timezone):
            return
        last = engine.state.activity.get(site.id, 0)
        since = max(last, engine.state.observable_since.get(site.id, 0))
        if since == 0:
            engine.state.observable_since[site.id] = engine.now  # first look: start the clock
            return
        hours = site.watch.inactivity_hours or rule.hours
        if engine.now - since >= hours * HOUR:
            room = engine.state.rooms.get(site.id)
            detail = Detail(
                "inactivity", {"hours": hours, "last": last, "room": room.room if room else ""}
            )
            engine.fire(key, rule, site, since, detail=detail)

    def activity(
        self, rule: Inactivity, engine: Engine, site: SiteInfo, reading: Observation
    ) -> None:
        detail = Detail("active-again", {"at": reading.ts, "room": reading.sensor})
        engine.resolve(alert_key(rule.id, site.id), rule, site, reading.ts, detail)
