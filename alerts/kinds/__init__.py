"""Rule kinds' behaviour, one module each; ``behaviour_of`` finds a rule's."""

from __future__ import annotations

from typing import Any

from alerts.kinds.base import Behaviour
from alerts.kinds.deadline import DeadlineBehaviour
from alerts.kinds.device_offline import DeviceOfflineBehaviour
from alerts.kinds.event import EventBehaviour
from alerts.kinds.inactivity import InactivityBehaviour
from alerts.kinds.long_stay import LongStayBehaviour
from alerts.kinds.night_door import NightDoorBehaviour
from alerts.kinds.sensor_silent import SensorSilentBehaviour
from alerts.kinds.service_event import ServiceEventBehaviour
from alerts.kinds.threshold import ThresholdBehaviour
from alerts.rules import (
    Deadline,
    DeviceOffline,
    Event,
    Inactivity,
    LongStay,
    NightDoor,
    Rule,
    SensorSilent,
    ServiceEvent,
    Threshold,
)

_BEHAVIOURS: dict[type[Any], Behaviour[Any]] = {
    Threshold: ThresholdBehaviour(),
    Inactivity: InactivityBehaviour(),
    Deadline: DeadlineBehaviour(),
    Event: EventBehaviour(),
    NightDoor: NightDoorBehaviour(),
    LongStay: LongStayBehaviour(),
    SensorSilent: SensorSilentBehaviour(),
    DeviceOffline: DeviceOfflineBehaviour(),
    ServiceEvent: ServiceEventBehaviour(),
}


def behaviour_of(rule: Rule) -> Behaviour[Any]:
    return _BEHAVIOURS[type(rule)]
