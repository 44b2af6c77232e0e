"""A device offline or silent for ``after_min`` (counted from when the news arrived),
and a device never heard from since the service started watching: commissioning,
which IT hears about once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.kinds.base import MIN, Behaviour
from alerts.rules import DeviceOffline
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo

NEVER_SEEN = "never-seen"


class DeviceOfflineBehaviour(Behaviour[DeviceOffline]):
    def tick(self, rule: DeviceOffline, engine: Engine, site: SiteInfo) -> None:
        after = rule.after_min * MIN
        for device in site.devices:
            if device not in engine.state.seen:
                self._never_seen(rule, engine, site, device)
                continue
            since = engine.state.offline.get(device)
            key = alert_key(rule.id, site.id, device)
            if since is not None and key not in engine.state.firing and engine.now - since >= after:
                detail = Detail("offline", {"device": device, "since": since})
                engine.fire(key, rule, site, since, device=device, detail=detail)

    def _never_seen(self, rule: DeviceOffline, engine: Engine, site: SiteInfo, device: str) -> None:
        key = alert_key(rule.id, site.id, device, NEVER_SEEN)
        since = engine.state.watch_started
        if not since or key in engine.state.firing or engine.now - since < rule.after_min * MIN:
            return
        detail = Detail(NEVER_SEEN, {"device": device, "since": since})
        engine.fire(key, rule, site, since, device=device, sensor=NEVER_SEEN, detail=detail)

    def device_back(self, rule: DeviceOffline, engine: Engine, site: SiteInfo, device: str) -> None:
        for key in (
            alert_key(rule.id, site.id, device),
            alert_key(rule.id, site.id, device, NEVER_SEEN),
        ):
            engine.resolve(key, rule, site, engine.now, Detail("back", {"device": device}))
