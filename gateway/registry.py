"""The device registry: every device listed in firmware-config, plus every device seen.

It records first and last seen, the retained status (online/offline, agent version),
desired and reported config versions, the last health readings and the sequence state.
Records live in memory on the ingest thread; changed ones are saved to SQLite every
``registry_save_s``, within a second of a status, config or release report, and at stop
(gateway/ingest.py), each time once the messages received before are durable: a restart
resumes at most those seconds behind and never ahead of the stored points.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path

from common.city.inventory import Inventory
from gateway import registry_db
from gateway.registry_db import DeviceRecord
from wire import (
    CATALOGUE,
    ConfigDesired,
    ConfigReported,
    ReleaseReported,
    Status,
    Zone,
)
from wire.payloads import MessageView
from wire.quick import MessageShape

# The device's own health quantities (kept with its record).
_HEALTH = frozenset(q.name for q in CATALOGUE.values() if q.zone is Zone.OPERATIONS)
_QUANTITY = attrgetter("quantity")


class Registry:
    def __init__(self, path: Path, inventory: Inventory, track_sequences: bool = True) -> None:
        self.path = path
        self.track_sequences = track_sequences
        self._db = registry_db.connect(path)
        self._records = registry_db.load(self._db)
        self._dirty: set[str] = set()
        # A status, config or release report changed: others read these from the file
        # (`civic-iot devices`, `fleet rollout status`), so the next tick saves.
        self.urgent = False
        self.sync_inventory(inventory)

    def sync_inventory(self, inventory: Inventory) -> None:
        """Listed devices get their site and zone; devices no longer listed lose them."""
        for device_id, record in self._records.items():
            if record.listed and device_id not in inventory.devices:
                record.listed = False
                self._dirty.add(device_id)
        for device_id, placement in inventory.devices.items():
            record = self._record(device_id)
            site, zone = placement.site.id, placement.site.zone.value
            if (record.site, record.zone, record.listed) != (site, zone, True):
                record.site, record.zone, record.listed = site, zone, True
                self._dirty.add(device_id)
        self.save()

    # -- what arrives ------------------------------------------------------------------

    def seen(self, device_id: str, now_ms: int) -> DeviceRecord:
        record = self._record(device_id)
        if record.first_seen_ms is None:
            record.first_seen_ms = now_ms
        record.last_seen_ms = now_ms
        self._dirty.add(device_id)
        return record

    def message(
        self, record: DeviceRecord, message: MessageView, now_ms: int, shape: MessageShape | None
    ) -> str:
        """A reading message from the device; returns its sequence verdict."""
        record.messages += 1
        record.last_lag_ms = now_ms - message.ts
        quantities = map(_QUANTITY, message.readings) if shape is None else shape.quantities
        if not _HEALTH.isdisjoint(quantities):  # a health message
            for reading in message.readings:
                if reading.quantity in _HEALTH and not reading.sensor:
                    record.health[reading.quantity] = reading.value
        if not self.track_sequences:
            return "untracked"
        return record.sequence.observe(message.seq, message.ts)

    def status(self, device_id: str, status: Status | None) -> None:
        record = self._record(device_id)
        if status is None:
            record.status, record.status_ts_ms, record.status_reason = "", None, ""
        else:
            record.status, record.status_ts_ms = status.state, status.ts
            record.status_reason = status.reason
            record.agent = status.agent or record.agent
        self._dirty.add(device_id)
        self.urgent = True

    def desired(self, device_id: str, desired: ConfigDesired | None) -> None:
        record = self._record(device_id)
        record.desired_version = desired.version if desired else None
        self._dirty.add(device_id)
        self.urgent = True

    def reported(self, device_id: str, reported: ConfigReported | None) -> None:
        record = self._record(device_id)
        if reported is None:
            record.reported_version = record.reported_desired = None
            record.reported_state = record.config_error = ""
        else:
            record.reported_version = reported.version
            record.reported_desired = reported.desired
            record.reported_state, record.config_error = reported.state, reported.error
        self._dirty.add(device_id)
        self.urgent = True

    def release(self, device_id: str, reported: ReleaseReported | None) -> None:
        record = self._record(device_id)
        if reported is None:
            record.release_desired = record.release_state = record.release_error = ""
            record.release_rollout = ""
        else:
            record.release_running, record.release_desired = reported.running, reported.desired
            record.release_state, record.release_error = reported.state, reported.error
            record.release_rollout = reported.rollout
        self._dirty.add(device_id)
        self.urgent = True

    # -- reading and saving ------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        """The registry file, for what else the gateway keeps in it (rollouts)."""
        return self._db

    def get(self, device_id: str) -> DeviceRecord | None:
        return self._records.get(device_id)

    def __iter__(self) -> Iterator[DeviceRecord]:
        return iter(self._records.values())

    def __len__(self) -> int:
        return len(self._records)

    def save(self) -> None:
        if self._dirty:
            registry_db.save(self._db, (self._records[d] for d in self._dirty))
            self._dirty.clear()
        self.urgent = False

    def close(self) -> None:
        self.save()
        self._db.close()

    def _record(self, device_id: str) -> DeviceRecord:
        record = self._records.get(device_id)
        if record is None:
            record = self._records[device_id] = DeviceRecord(device_id)
        return record


def read(path: Path) -> list[DeviceRecord]:
    """The records in a registry file, for `civic-iot devices` (another process)."""
    db = registry_db.connect(path)
    try:
        return sorted(registry_db.load(db).values(), key=lambda r: (r.site, r.device_id))
    finally:
        db.close()
