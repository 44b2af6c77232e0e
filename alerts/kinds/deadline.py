"""No activity between ``after`` and ``by`` local time: no wake-up by 10:00 (or by the
resident's own ``wake_up_by``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts import schedule
from alerts.engine_types import Observation
from alerts.kinds.base import Behaviour
from alerts.rules import Deadline
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo


class DeadlineBehaviour(Behaviour[Deadline]):
    def tick(self, rule: Deadline, engine: Engine, site: SiteInfo) -> None:
        by = site.watch.wake_up_by or rule.by
        start = schedule.at_local(engine.now, rule.after, site.timezone)
        due = schedule.at_local(engine.now, by, site.timezone)
        key = alert_key(rule.id, site.id)
        if not start <= due <= engine.now or key in engine.state.firing:
            return
        if not engine.expects_activity(site):
            return
        active = engine.state.activity.get(site.id, 0) >= start
        watched = engine.state.observable_since.get(site.id, engine.now) <= start
        if not active and watched:
            last = engine.state.activity.get(site.id, 0)
            engine.fire(key, rule, site, due, detail=Detail("no-wake-up", {"by": by, "last": last}))

    def activity(
        self, rule: Deadline, engine: Engine, site: SiteInfo, reading: Observation
    ) -> None:
        detail = Detail("active-again", {"at": reading.ts, "room": reading.sensor})
        engine.resolve(alert_key(rule.id, site.id), rule, site, reading.ts, detail)
