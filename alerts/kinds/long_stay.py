"""Someone went into the bathroom or toilet and nothing moved elsewhere since: a fall.

Counted from when they went in (motion in the same room while there does not restart
it: someone who fell may still move), day and night; at night the limit is
``night_max_min``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts import schedule
from alerts.engine_types import Observation
from alerts.kinds.base import HOUR, MIN, Behaviour
from alerts.rules import LongStay
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo

# Longer than this, the room is stale news (a sensor that stopped, not a person).
_GIVE_UP_MS = 12 * HOUR


class LongStayBehaviour(Behaviour[LongStay]):
    def tick(self, rule: LongStay, engine: Engine, site: SiteInfo) -> None:
        room = engine.state.rooms.get(site.id)
        key = alert_key(rule.id, site.id)
        if room is None or not _watched(room.room, rule) or key in engine.state.firing:
            return
        if not engine.expects_activity(site):
            return
        if room.entered < engine.state.observable_since.get(site.id, 0):
            return  # learnt from an outage's backlog: stale news, not a stay we saw
        at_night = schedule.in_window(room.entered, rule.night, site.timezone)
        limit = rule.night_max_min if at_night and rule.night_max_min is not None else rule.max_min
        stay = engine.now - room.entered
        if limit * MIN <= stay < _GIVE_UP_MS:
            detail = Detail(
                "long-stay", {"room": room.room, "entered": room.entered, "minutes": limit}
            )
            engine.fire(key, rule, site, room.entered, sensor=room.room, detail=detail)

    def activity(
        self, rule: LongStay, engine: Engine, site: SiteInfo, reading: Observation
    ) -> None:
        if not _watched(reading.sensor, rule):
            detail = Detail("active-again", {"at": reading.ts, "room": reading.sensor})
            engine.resolve(alert_key(rule.id, site.id), rule, site, reading.ts, detail)


def _watched(room: str, rule: LongStay) -> bool:
    """One of the rule's rooms, also as part of a longer name ("toilet-2f", "1f-bath")."""
    parts = room.split("-")
    return room in rule.sensors or any(part in rule.sensors for part in parts)
