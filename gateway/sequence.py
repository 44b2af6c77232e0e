"""Per-device sequence tracking: what is missing, what came late, what came twice.

Every message from an agent carries a sequence number that its durable outbox assigns
without skipping. Agents send live messages first and their backlog afterwards, so a
number below the highest is normal: it fills a gap (``late``). One that was already
seen is a duplicate (QoS 1 redelivery). A gap that never fills is a message the agent
evicted or lost; it stays ``missing``.

Missing numbers are kept as ranges, at most ``MAX_RANGES``; beyond that the oldest
ranges are given up on and counted as ``lost`` so memory stays bounded.
"""

from __future__ import annotations

import bisect

import msgspec

MAX_RANGES = 64


class SequenceState(msgspec.Struct, forbid_unknown_fields=True):
    """One device's sequence numbers; persisted in the registry as JSON."""

    highest: int = -1
    highest_ts: int = 0
    # The first number this gateway saw: what is below it came before tracking began
    # (or was overtaken by an event sent first), so it can be late but never a gap.
    floor: int = -1
    # Sorted, disjoint, inclusive ranges of numbers not (yet) received.
    missing: list[tuple[int, int]] = msgspec.field(default_factory=list)
    late: int = 0
    duplicates: int = 0
    lost: int = 0
    resets: int = 0

    @property
    def missing_count(self) -> int:
        return sum(last - first + 1 for first, last in self.missing)

    def observe(self, seq: int, ts_ms: int) -> str:
        """Record one message; returns "new", "late", "duplicate" or "reset"."""
        if self.highest < 0:
            self.highest, self.highest_ts, self.floor = seq, ts_ms, seq
            return "new"
        if seq > self.highest:
            if seq > self.highest + 1:
                self._add_missing(self.highest + 1, seq - 1)
            self.highest, self.highest_ts = seq, ts_ms
            return "new"
        if self._fill(seq):
            self.late += 1
            return "late"
        if ts_ms > self.highest_ts:
            # Newer than anything seen yet with an old number: the agent's outbox was
            # wiped (a new SD card) and counts again from the start.
            self.resets += 1
            self.highest, self.highest_ts, self.floor, self.missing = seq, ts_ms, seq, []
            return "reset"
        if seq < self.floor:
            self.late += 1
            return "late"
        self.duplicates += 1
        return "duplicate"

    def _add_missing(self, first: int, last: int) -> None:
        self.missing.append((first, last))
        while len(self.missing) > MAX_RANGES:
            gone_first, gone_last = self.missing.pop(0)
            self.lost += gone_last - gone_first + 1

    def _fill(self, seq: int) -> bool:
        index = bisect.bisect_right(self.missing, seq, key=lambda r: r[0]) - 1
        if index < 0 or seq > self.missing[index][1]:
            return False
        first, last = self.missing[index]
        pieces = [(first, seq - 1)] if first < seq else []
        pieces += [(seq + 1, last)] if seq < last else []
        self.missing[index : index + 1] = pieces
        return True
