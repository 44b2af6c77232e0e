"""Staged rollouts of an agent release: a canary, then waves, each only when the one
before is healthy; paused by itself past the failure limit.

IT starts, pauses, resumes and aborts a rollout with `civic-iot fleet rollout`, which
writes the rollouts table of the gateway's registry. The gateway (the only process that
sees every device's ``release/reported``) drives it on its own thread's clock: it sets
each device's retained ``release/desired`` wave by wave and judges each wave from what
the devices report. Which devices a wave holds is fixed when the rollout starts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from common.city.inventory import Inventory
from gateway.registry_db import DeviceRecord
from wire import ReleaseDesired, encode, now_ms, topics

log = logging.getLogger(__name__)
RolloutState = Literal["running", "paused", "aborted", "done"]
DeviceVerdict = Literal["done", "failed", "pending"]
_COLUMNS = ("id", "version", "source", "target", "plan", "max_failures", "deadline_s",
            "home_window", "state", "reason", "wave", "created_ms", "updated_ms")  # fmt: skip


class RolloutError(Exception):
    """A rollout request that cannot be carried out; says why."""


@dataclass
class Rollout:
    id: str
    version: str
    source: str
    target: str  # the group, as IT wrote it
    plan: list[list[str]]  # the devices of each wave: canary first
    max_failures: float  # a fraction of the devices told so far
    deadline_s: int
    home_window: str
    state: RolloutState = "running"
    reason: str = ""
    wave: int = 0
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)

    @property
    def told(self) -> list[str]:
        """The devices whose desired release this rollout has set so far."""
        return [d for wave in self.plan[: self.wave + 1] for d in wave]


def plan_waves(devices: list[str], canary: float, waves: list[float], seed: str) -> list[list[str]]:
    """The canary (a fraction, at least one device), then each wave up to its cumulative
    fraction of the group. Devices are ordered by a hash of the rollout's seed, so the
    canary is not always the same first few by name."""
    if not 0 < canary <= 1 or not waves or any(not 0 < w <= 1 for w in waves):
        raise RolloutError("--canary and --waves are percentages above 0 and at most 100")
    if sorted(waves) != waves or waves[-1] != 1:
        raise RolloutError("--waves must grow and end at 100%, e.g. 25%,100%")
    order = sorted(devices, key=lambda d: hashlib.sha256(f"{seed}/{d}".encode()).hexdigest())
    plan, taken = [], 0
    for fraction in [canary, *waves]:
        upto = max(taken + 1 if taken < len(order) else taken, math.ceil(fraction * len(order)))
        if upto > taken:
            plan.append(order[taken:upto])
            taken = upto
    return plan


def new_rollout(
    version: str, source: str, target: str, devices: list[str], *,
    canary: float, waves: list[float], max_failures: float, deadline_s: int, home_window: str,
) -> Rollout:  # fmt: skip
    rollout_id = f"{version}-{secrets.token_hex(3)}"
    plan = plan_waves(devices, canary, waves, rollout_id)
    return Rollout(rollout_id, version, source, target, plan, max_failures, deadline_s,
                   home_window)  # fmt: skip


# -- the rollouts table (the gateway's registry file) ----------------------------------


def save(db: sqlite3.Connection, rollout: Rollout) -> None:
    rollout.updated_ms = now_ms()
    values = [getattr(rollout, c) for c in _COLUMNS]
    values[_COLUMNS.index("plan")] = json.dumps(rollout.plan)
    sql = (f"INSERT OR REPLACE INTO rollouts ({', '.join(_COLUMNS)}) "  # noqa: S608
           f"VALUES ({', '.join('?' for _ in _COLUMNS)})")  # fmt: skip
    with db:
        db.execute(sql, values)


def load_all(db: sqlite3.Connection) -> list[Rollout]:
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM rollouts ORDER BY created_ms")  # noqa: S608
    rollouts = []
    for row in rows:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["plan"] = json.loads(values["plan"])
        rollouts.append(Rollout(**values))
    return rollouts


def find(db: sqlite3.Connection, rollout_id: str | None) -> Rollout:
    """The rollout with this ID, or the latest one when None."""
    rollouts = load_all(db)
    if not rollouts:
        raise RolloutError("no rollout has been started")
    if rollout_id is None:
        return rollouts[-1]
    for rollout in rollouts:
        if rollout.id == rollout_id:
            return rollout
    raise RolloutError(f"no rollout {rollout_id!r}; rollouts: {', '.join(r.id for r in rollouts)}")


_CHANGES: dict[str, tuple[set[str], RolloutState]] = {
    "pause": ({"running"}, "paused"),
    "resume": ({"paused"}, "running"),
    "abort": ({"running", "paused"}, "aborted"),
}


def change(rollout: Rollout, what: str) -> None:
    """Pause, resume or abort, when the rollout's state allows it."""
    allowed, to = _CHANGES[what]
    if rollout.state not in allowed:
        raise RolloutError(f"rollout {rollout.id} is {rollout.state}: cannot {what} it")
    rollout.state, rollout.reason = to, f"{what} by IT"


# -- judging ---------------------------------------------------------------------------


def verdict(rollout: Rollout, record: DeviceRecord | None) -> DeviceVerdict:
    if record is None:
        return "pending"
    if record.release_running == rollout.version and record.release_state == "running":
        return "done"  # switched to and confirmed healthy (on probation it says installing)
    gave_up = record.release_state in ("failed", "refused")
    if record.release_desired == rollout.version and gave_up:
        return "failed"
    return "pending"


@dataclass(frozen=True)
class WaveCount:
    done: int
    failed: int
    pending: int

    @property
    def total(self) -> int:
        return self.done + self.failed + self.pending


def count(rollout: Rollout, devices: Iterable[str],
          record: Callable[[str], DeviceRecord | None]) -> WaveCount:  # fmt: skip
    verdicts = [verdict(rollout, record(d)) for d in devices]
    return WaveCount(verdicts.count("done"), verdicts.count("failed"), verdicts.count("pending"))


# -- the driver (on the gateway's thread) ----------------------------------------------


class RolloutDriver:
    def __init__(
        self,
        db: sqlite3.Connection,
        inventory: Inventory,
        publish: Callable[..., bool],
        record: Callable[[str], DeviceRecord | None],
    ) -> None:
        self._db, self._inventory = db, inventory
        self._publish, self._record = publish, record
        self._told: set[tuple[str, str]] = set()  # (rollout, device) set since we started

    def check(self) -> None:
        for rollout in load_all(self._db):
            if rollout.state == "running":
                self._drive(rollout)
            elif rollout.state == "aborted":
                self._withdraw(rollout)

    def _drive(self, rollout: Rollout) -> None:
        for device_id in rollout.plan[rollout.wave]:
            self._tell(rollout, device_id)
        told = count(rollout, rollout.told, self._record)
        if told.failed > rollout.max_failures * told.total:
            rollout.state = "paused"
            rollout.reason = (f"{told.failed} of {told.total} devices failed "
                              f"(limit {rollout.max_failures:.0%}): paused")  # fmt: skip
            log.warning("rollout %s %s", rollout.id, rollout.reason)
            save(self._db, rollout)
            return
        wave = count(rollout, rollout.plan[rollout.wave], self._record)
        if wave.pending:
            return
        if rollout.wave + 1 < len(rollout.plan):
            rollout.wave += 1
            log.info("rollout %s: wave %d healthy, starting wave %d", rollout.id,
                     rollout.wave - 1, rollout.wave)  # fmt: skip
        else:
            rollout.state, rollout.reason = "done", f"{told.done} devices run {rollout.version}"
            log.info("rollout %s done: %s", rollout.id, rollout.reason)
        save(self._db, rollout)

    def _tell(self, rollout: Rollout, device_id: str) -> None:
        if (rollout.id, device_id) in self._told:
            return
        placement = self._inventory.placement(device_id)
        home = placement is not None and placement.site.kind == "home"
        timezone = placement.site.timezone if placement else "Asia/Tokyo"
        desired = ReleaseDesired(
            schema=1, version=rollout.version, source=rollout.source, ts=now_ms(),
            window=rollout.home_window if home else "", timezone=timezone,
            deadline_s=rollout.deadline_s, rollout=rollout.id,
        )  # fmt: skip
        if self._publish(topics.release_desired(device_id), encode(desired), retain=True):
            self._told.add((rollout.id, device_id))

    def _withdraw(self, rollout: Rollout) -> None:
        """An aborted rollout: devices that have not updated yet are no longer asked to."""
        for device_id in rollout.told:
            key = (rollout.id, f"withdrawn/{device_id}")
            if key in self._told or verdict(rollout, self._record(device_id)) == "done":
                continue
            if self._publish(topics.release_desired(device_id), b"", retain=True):
                self._told.add(key)
