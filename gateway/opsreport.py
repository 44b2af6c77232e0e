"""The operations figures the gateway writes to the operations zone once per interval.

``ingest`` (per device): messages and readings received, sequence numbers that came
late or twice in the interval, numbers still missing, numbers given up on, and the
end-to-end lag (agent's message time to the gateway). ``gateway`` (per worker): its
counters, spool and fleet states. docs/influxdb-schema.md lists the fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gateway.fleetstate import DeviceState
from gateway.lineprotocol import FieldValue, line
from gateway.registry import Registry
from gateway.registry_db import DeviceRecord
from gateway.stats import IngestStats


@dataclass(slots=True)
class DeviceWindow:
    messages: int = 0
    readings: int = 0
    late: int = 0
    duplicates: int = 0
    resets: int = 0
    lag_max_ms: int = 0
    lag_sum_ms: int = 0


class OpsReport:
    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self._windows: dict[str, DeviceWindow] = {}

    def message(self, device_id: str, readings: int, lag_ms: int, verdict: str) -> None:
        window = self._windows.get(device_id)
        if window is None:
            window = self._windows[device_id] = DeviceWindow()
        window.messages += 1
        window.readings += readings
        window.lag_max_ms = max(window.lag_max_ms, lag_ms)
        window.lag_sum_ms += lag_ms
        if verdict == "new":  # the usual case
            return
        if verdict == "late":
            window.late += 1
        elif verdict == "duplicate":
            window.duplicates += 1
        elif verdict == "reset":
            window.resets += 1

    def take_lines(
        self,
        registry: Registry,
        stats: IngestStats,
        gauges: dict[str, int],
        states: Counter[DeviceState],
        now_ms: int,
    ) -> list[str]:
        """The interval's points (and a fresh interval)."""
        lines = [self._device_line(d, w, registry, now_ms) for d, w in self._windows.items()]
        self._windows = {}
        fields: dict[str, FieldValue] = {**stats.as_dict(), **gauges}
        fields.update({f"devices_{s.value.replace('-', '_')}": states[s] for s in DeviceState})
        lines.append(line("gateway", {"gateway": self.gateway_id}, fields, now_ms))
        return lines

    def _device_line(
        self, device_id: str, window: DeviceWindow, registry: Registry, now_ms: int
    ) -> str:
        record = registry.get(device_id)
        sequence = record.sequence if record else None
        fields: dict[str, FieldValue] = {
            "messages": window.messages,
            "readings": window.readings,
            "lag_max_ms": window.lag_max_ms,
            "lag_mean_ms": window.lag_sum_ms / window.messages,
        }
        if registry.track_sequences and sequence is not None:
            fields |= {
                "seq_late": window.late,
                "seq_duplicates": window.duplicates,
                "seq_resets": window.resets,
                "seq_missing": sequence.missing_count,
                "seq_lost": sequence.lost,
            }
        if record is not None:
            fields |= _config_fields(record)
        site = record.site if record else ""
        return line("ingest", {"device": device_id, "site": site}, fields, now_ms)


def _config_fields(record: DeviceRecord) -> dict[str, FieldValue]:
    """Agent version and config drift, for IT's dashboard: desired config the agent does
    not run yet (still offline, or it rejected the config)."""
    fields: dict[str, FieldValue] = {}
    if record.agent:
        fields["agent"] = record.agent
    if record.desired_version is not None:
        fields["config_desired"] = record.desired_version
        fields["config_drift"] = int(record.reported_version != record.desired_version)
    if record.reported_version is not None:
        fields["config_reported"] = record.reported_version
    return fields
