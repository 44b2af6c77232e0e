"""A sensor that used to report has sent nothing for ``after_min`` while its device is
online: a flat battery, or out of range."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.engine_types import Observation
from alerts.kinds.base import MIN, Behaviour
from alerts.rules import SensorSilent
from alerts.state import Detail, alert_key

if TYPE_CHECKING:
    from alerts.kinds.base import Engine
    from alerts.sites import SiteInfo


class SensorSilentBehaviour(Behaviour[SensorSilent]):
    def reading(
        self, rule: SensorSilent, engine: Engine, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        if rule.quantity != reading.quantity:
            return
        key = f"{device}/{reading.sensor}/{rule.quantity}"
        engine.state.last_reading[key] = max(engine.state.last_reading.get(key, 0), reading.ts)
        alert = alert_key(rule.id, site.id, device, reading.sensor)
        engine.resolve(alert, rule, site, reading.ts)

    def tick(self, rule: SensorSilent, engine: Engine, site: SiteInfo) -> None:
        suffix = f"/{rule.quantity}"
        for device in site.devices:
            if device in engine.state.offline:
                continue  # the device alert covers it
            prefix = f"{device}/"
            for key, heard in engine.state.last_reading.items():
                if not key.startswith(prefix) or not key.endswith(suffix):
                    continue
                sensor = key[len(prefix) : -len(suffix)]
                # Silence while the device was offline is the device's, not the sensor's.
                last = max(heard, engine.state.observable_since.get(site.id, 0))
                alert = alert_key(rule.id, site.id, device, sensor)
                if alert not in engine.state.firing and engine.now - last >= rule.after_min * MIN:
                    detail = Detail("sensor-silent", {"room": sensor, "last": last})
                    engine.fire(
                        alert, rule, site, last, device=device, sensor=sensor, detail=detail
                    )
