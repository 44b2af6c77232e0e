"""Over-the-air updates, the agent's side: follow the retained ``release/desired``,
ask the installer for an update in the update window, confirm a new release once it is
healthy, and report on ``release/reported`` what runs and how the desired one fared.

The agent runs unprivileged and cannot write its own code, so the installing is done by
``install-release.py --apply-request`` (common/releases.py), which systemd starts as root
when the agent's request file appears (civic-iot-update.path). It verifies the city's
signature and every hash, installs beside the running release, switches, restarts the
agent, and switches back unless the new agent confirms within the deadline.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.releases import (
    COMMITTED,
    PENDING,
    REQUEST,
    RESULT,
    WORKING,
    read_json,
    version_key,
    write_json,
)
from wire import ReleaseDesired, ReleaseReported, now_ms
from wire.payloads import ReleaseState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How the installer's last request ended (``update-result.json``)."""

    version: str
    ok: bool
    stage: str
    error: str

    @classmethod
    def read(cls, state: Path) -> Outcome | None:
        data = read_json(state / RESULT)
        if data is None:
            return None
        return cls(str(data.get("version", "")), bool(data.get("ok")),
                   str(data.get("stage", "")), str(data.get("error", "")))  # fmt: skip


def in_window(window: str, timezone: str, now: dt.datetime) -> bool:
    """Whether ``now`` is inside ``HH:MM-HH:MM`` local (it may cross midnight)."""
    if not window:
        return True
    # Loaded here: 0.3 MiB of an idle agent that looks at its update window rarely.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        local = now.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local = now.astimezone(ZoneInfo("Asia/Tokyo"))
    start, end = (dt.time.fromisoformat(part) for part in window.split("-"))
    moment = local.time().replace(second=0, microsecond=0)
    return start <= moment < end if start <= end else moment >= start or moment < end


class Updater:
    def __init__(
        self,
        state: Path,
        running: str,
        report: Callable[[ReleaseReported], None],
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.state = state
        self.running = running
        self._report = report
        self._now = now
        self.desired: ReleaseDesired | None = None
        pending = read_json(state / PENDING)
        # This release was just switched to: confirm it only once it proves healthy.
        self.on_probation = pending is not None and pending.get("to") == running
        self._last_reported: tuple[str, str, str] | None = None
        self._asked = ""

    def desired_changed(self, desired: ReleaseDesired) -> None:
        self.desired = desired
        self._last_reported = None
        self.check()

    def withdrawn(self) -> None:
        """No release is desired any more; one already asked for still goes ahead."""
        if self.desired is not None:
            log.info("desired release %s withdrawn", self.desired.version)
        self.desired = None

    def healthy(self) -> None:
        """The agent is connected, its collectors run and its outbox takes writes."""
        if not self.on_probation:
            return
        self.on_probation = False
        (self.state / COMMITTED).write_text(self.running + "\n", encoding="utf-8")
        log.info("release %s is healthy: confirmed to the installer", self.running)

    def check(self) -> None:
        """Compare what runs with what is desired; ask for an update when it is time.
        Called when the desired release arrives and on every health tick."""
        desired = self.desired
        if desired is None:
            return
        state, error = self._decide(desired)
        if state == "installing" and self._may_ask(desired.version):
            self._asked = desired.version
            write_json(self.state / REQUEST, {"version": desired.version, "source": desired.source,
                                              "deadline_s": desired.deadline_s,
                                              "rollout": desired.rollout})  # fmt: skip
            log.info("asked the installer for release %s", desired.version)
        self._say(state, desired, error)

    def _may_ask(self, version: str) -> bool:
        """Once per release: not while a request is waiting, being carried out or
        waiting for the new agent's word, and never twice from this process."""
        busy = any((self.state / name).exists() for name in (REQUEST, WORKING, PENDING))
        return not busy and version not in (self._asked, self.running)

    def _decide(self, desired: ReleaseDesired) -> tuple[ReleaseState, str]:
        if desired.version == self.running:
            return ("installing", "") if self.on_probation else ("running", "")
        outcome = Outcome.read(self.state)
        if outcome is not None and outcome.version == desired.version and not outcome.ok:
            # Never try a release again that failed here: IT publishes a fixed one.
            return ("refused" if outcome.stage == "verify" else "failed"), outcome.error
        if version_key(desired.version) < version_key(self.running):
            return "refused", f"{desired.version} is older than the running {self.running}"
        if not in_window(desired.window, desired.timezone, self._now()):
            return "scheduled", f"waits for its update window {desired.window} ({desired.timezone})"
        return "installing", ""

    def _say(self, state: ReleaseState, desired: ReleaseDesired, error: str) -> None:
        key = (state, desired.version, error)
        if key == self._last_reported:
            return
        self._last_reported = key
        self._report(ReleaseReported(schema=1, running=self.running, state=state, ts=now_ms(),
                                     desired=desired.version, error=error,
                                     rollout=desired.rollout))  # fmt: skip

    def link_up(self) -> None:
        """Say it again on every connection (the broker may have lost the retained one)."""
        self._last_reported = None
