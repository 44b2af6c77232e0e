"""A site as the engine sees it: its devices, its timezone, its resident's settings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Watch:
    """A resident's own settings (residents file), replacing the rules' defaults."""

    inactivity_hours: float | None = None
    night: str | None = None  # "HH:MM-HH:MM", for the night door
    wake_up_by: str | None = None  # "HH:MM", for the wake-up deadline


@dataclass(frozen=True)
class SiteInfo:
    id: str
    kind: str  # "home" or "facility"
    timezone: str
    devices: tuple[str, ...]
    watch: Watch = field(default_factory=Watch)
