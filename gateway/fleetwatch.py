"""Watching the fleet from the registry: a device going silent or coming back is an
event for people; the counts per state go to /metrics and, with the per-device ingest
figures, to the operations zone."""

from __future__ import annotations

import logging
from collections import Counter

from gateway.announce import Announcer
from gateway.fleetstate import DeviceState, state_of
from gateway.registry import Registry
from wire import now_ms

log = logging.getLogger(__name__)


class FleetWatch:
    def __init__(self, registry: Registry, announce: Announcer, offline_after_s: float) -> None:
        self._registry = registry
        self._announce = announce
        self._offline_after_s = offline_after_s
        self._states: dict[str, DeviceState] = {}

    def check(self) -> Counter[DeviceState]:
        """Every device's state now; events for the changes that matter."""
        now = now_ms()
        counts: Counter[DeviceState] = Counter()
        for record in self._registry:
            state = state_of(record, now, self._offline_after_s)
            counts[state] += 1
            before = self._states.get(record.device_id)
            self._states[record.device_id] = state
            if before is None or before is state:
                continue
            if state is DeviceState.SILENT:
                log.warning(
                    "%s is silent: nothing heard for %ss", record.device_id, self._offline_after_s
                )
                detail = f"nothing heard for {self._offline_after_s:g} s while it says it is online"
                self._announce.event("device-silent", record, detail)
            elif before is DeviceState.SILENT and state is DeviceState.ONLINE:
                log.warning("%s is heard again", record.device_id)
                self._announce.event("device-back", record, "heard again")
        return counts

    def counts(self) -> Counter[DeviceState]:
        """The states as of the last check."""
        return Counter(self._states.values())
