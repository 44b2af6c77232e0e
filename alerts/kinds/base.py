"""What a rule kind may do: react to a reading, to activity, to the clock, to a device
coming back and to the gateway's events. Each kind overrides what it needs; the engine
calls every rule's behaviour the same way, so adding a kind is one module here."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from alerts.engine_types import Observation
from alerts.rules import Rule, Severity
from alerts.sites import SiteInfo
from alerts.state import Change, Detail, EngineState

R = TypeVar("R", bound=Rule)
MIN = 60_000
HOUR = 3_600_000
# Readings older than this on arrival are the backlog of an outage: they rebuild the
# picture but do not fire (a panic press does, marked late).
STALE_AFTER_MS = 15 * MIN


class Engine(Protocol):
    """What a kind may see and do of the engine (alerts/engine.py implements it)."""

    now: int
    state: EngineState
    city: SiteInfo
    sites: dict[str, SiteInfo]

    def fire(
        self,
        key: str,
        rule: Rule,
        site: SiteInfo,
        at: int,
        *,
        device: str = "",
        sensor: str = "",
        severity: Severity | None = None,
        value: float | bool | None = None,
        detail: Detail | None = None,
        late: bool = False,
    ) -> None: ...

    def resolve(
        self, key: str, rule: Rule, site: SiteInfo, at: int, detail: Detail | None = None
    ) -> None: ...

    def change(
        self,
        change: Change,
        key: str,
        rule: Rule,
        site: SiteInfo,
        at: int,
        *,
        severity: Severity | None = None,
        detail: Detail | None = None,
        device: str = "",
        sensor: str = "",
    ) -> None: ...

    def expects_activity(self, site: SiteInfo) -> bool: ...

    def fresh(self, ts: int) -> bool: ...


class Behaviour(Generic[R]):
    def reading(
        self, rule: R, engine: Engine, site: SiteInfo, device: str, reading: Observation
    ) -> None:
        """A reading from one of the site's devices (after its activity was taken)."""

    def activity(self, rule: R, engine: Engine, site: SiteInfo, reading: Observation) -> None:
        """A sign that the resident is up and about (motion, door, button)."""

    def tick(self, rule: R, engine: Engine, site: SiteInfo) -> None:
        """The clock moved on (engine.now)."""

    def tick_city(self, rule: R, engine: Engine) -> None:
        """The clock moved on, once for the whole city (not per site)."""

    def device_back(self, rule: R, engine: Engine, site: SiteInfo, device: str) -> None:
        """A device that was offline, or never seen, is heard from again."""

    def service_event(  # noqa: PLR0917 - one event's fields
        self, rule: R, engine: Engine, kind: str, device: str, site: str, detail: str
    ) -> None:
        """The gateway reported something (unknown device, spool overflow)."""
