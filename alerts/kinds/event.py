"""A reading that is itself the alarm: a call button held for help. It stays open until
someone acknowledges it; another press meanwhile adds nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.engine_types import Observation
from alerts.kinds.base import STALE_AFTER_MS, Behaviour
from alerts.rules import Event
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo


class EventBehaviour(Behaviour[Event]):
    def reading(
        self, rule: Event, engine: Engine, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        if rule.quantity != reading.quantity or reading.value is not True:
            return
        key = alert_key(rule.id, site.id, device, reading.sensor)
        if key in engine.state.firing:
            return  # still open: one press while waiting for acknowledgement is enough
        late = engine.now - reading.ts >= STALE_AFTER_MS
        detail = Detail("event", {"room": reading.sensor, "at": reading.ts})
        engine.fire(
            key,
            rule,
            site,
            reading.ts,
            device=device,
            sensor=reading.sensor,
            detail=detail,
            late=late,
        )
