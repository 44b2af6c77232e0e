"""When and how often the gateway asks an agent again for missing sequence numbers."""

from __future__ import annotations

from gateway.config import ResendConfig
from gateway.gaps import GapRepair
from gateway.registry_db import DeviceRecord
from wire import CommandRequest, decode, topics
from wire.payloads import resend_ranges

DEVICE = "home-a001-hub"
NOW = 1_763_856_000_000


class Asked:
    def __init__(self) -> None:
        self.requests: list[tuple[str, list[tuple[int, int]]]] = []

    def __call__(self, topic: str, payload: bytes) -> None:
        request = decode(payload, CommandRequest, topic=topic)
        self.requests.append((topic, resend_ranges(request)))


def device_with(*seqs: int) -> DeviceRecord:
    record = DeviceRecord(DEVICE)
    for seq in seqs:
        record.sequence.observe(seq, 1_000 + seq)
    return record


def test_a_gap_gets_a_grace_period_then_is_asked_for_with_growing_pauses() -> None:
    asked = Asked()
    repair = GapRepair(asked, ResendConfig(after_s=10, tries=3))
    record = device_with(1, 2, 6, 9)  # 3..5 and 7..8 missing
    repair.note(record, now=0)
    repair.check({DEVICE: record}.get, now=9, ts_ms=NOW)
    assert asked.requests == []  # a backlog after an outage fills gaps by itself
    repair.check({DEVICE: record}.get, now=10, ts_ms=NOW)
    assert asked.requests == [(topics.command_request(DEVICE), [(3, 5), (7, 8)])]
    record.sequence.observe(4, 1_004)  # some arrive
    for now in (20, 29):
        repair.check({DEVICE: record}.get, now=now, ts_ms=NOW)
    assert len(asked.requests) == 1  # the second pause is 20 s
    repair.check({DEVICE: record}.get, now=30, ts_ms=NOW)
    assert asked.requests[-1][1] == [(3, 3), (5, 5), (7, 8)]
    for now in (70, 150, 400):
        repair.check({DEVICE: record}.get, now=now, ts_ms=NOW)
    assert len(asked.requests) == 3  # then it stops asking; the numbers stay missing
    repair.note(record, now=500)
    repair.check({DEVICE: record}.get, now=600, ts_ms=NOW)
    assert len(asked.requests) == 3


def test_a_new_gap_after_giving_up_is_asked_for_again() -> None:
    asked = Asked()
    repair = GapRepair(asked, ResendConfig(after_s=1, tries=1))
    record = device_with(1, 3)
    repair.note(record, now=0)
    for now in (1, 5, 50):
        repair.check({DEVICE: record}.get, now=now, ts_ms=NOW)
    assert len(asked.requests) == 1
    record.sequence.observe(10, 1_010)
    repair.note(record, now=60)
    repair.check({DEVICE: record}.get, now=61, ts_ms=NOW)
    assert asked.requests[-1][1] == [(2, 2), (4, 9)]


def test_filled_gaps_and_forgotten_devices_are_never_asked_about() -> None:
    asked = Asked()
    repair = GapRepair(asked, ResendConfig(after_s=1))
    record = device_with(1, 3)
    repair.note(record, now=0)
    record.sequence.observe(2, 1_002)
    repair.check({DEVICE: record}.get, now=5, ts_ms=NOW)
    repair.note(device_with(1, 5), now=0)
    repair.check({}.get, now=5, ts_ms=NOW)
    assert asked.requests == []
    never = GapRepair(asked, ResendConfig(tries=0))
    never.note(device_with(1, 5), now=0)
    never.check({DEVICE: device_with(1, 5)}.get, now=1_000, ts_ms=NOW)
    assert asked.requests == []
