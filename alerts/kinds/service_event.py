"""The gateway's events people must hear about: a device not in firmware-config
publishing, the gateway's spool overflowing. One alert per device (or gateway), closed
after ``clear_after_min`` without another such event."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.kinds.base import MIN, Behaviour
from alerts.rules import ServiceEvent
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine


class ServiceEventBehaviour(Behaviour[ServiceEvent]):
    def service_event(  # noqa: PLR0917 - one event's fields
        self, rule: ServiceEvent, engine: Engine, kind: str, device: str, site: str, detail: str
    ) -> None:
        if kind != rule.event:
            return
        where = engine.sites.get(site, engine.city)
        key = alert_key(rule.id, where.id, device)
        engine.state.events[key] = engine.now
        if key not in engine.state.firing:
            text = Detail(
                "service-event", {"event": kind, "device": device, "detail": detail[:300]}
            )
            engine.fire(key, rule, where, engine.now, device=device, detail=text)

    def tick_city(self, rule: ServiceEvent, engine: Engine) -> None:
        prefix = f"{rule.id}/"
        for key, last in list(engine.state.events.items()):
            if key.startswith(prefix) and engine.now - last >= rule.clear_after_min * MIN:
                del engine.state.events[key]
                site = engine.sites.get(key.split("/")[1], engine.city)
                engine.resolve(key, rule, site, engine.now)
