"""The outbox and the sender, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from edge.link import jittered
from edge.outbox import EVENT, ROUTINE, Limits, Outbox
from edge.sender import Sender, SenderSettings
from tests.support.clock import FakeClock

NOW = 1_763_856_000_000


def fill(
    outbox: Outbox, count: int, priority: int = ROUTINE, now: int = NOW, size: int = 10
) -> None:
    start = outbox.next_sequence()
    messages = [(priority, f"t/{n}", b"x" * size) for n in range(start, start + count)]
    outbox.add(messages, start + count - 1, now)


def test_messages_and_the_sequence_survive_reopening(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    fill(outbox, 5)
    assert outbox.next_sequence() == 6
    outbox.close()
    reopened = Outbox(tmp_path / "o.db")
    assert reopened.next_sequence() == 6
    assert reopened.stats().depth == 5
    rows = reopened.take(ROUTINE, 0, 2**62, 10)
    assert [r.topic for r in rows] == [f"t/{n}" for n in range(1, 6)]
    reopened.remove([rows[0].id, rows[1].id])
    assert reopened.stats().depth == 3
    assert reopened.next_sequence() == 6  # removing never reuses a sequence number


def test_full_outbox_evicts_oldest_first_and_counts(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", Limits(max_rows=100))
    fill(outbox, 150)
    stats = outbox.stats()
    assert (stats.depth, stats.evicted) == (100, 50)
    assert outbox.take(ROUTINE, 0, 2**62, 1)[0].topic == "t/51"


def test_byte_and_age_limits(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", Limits(max_bytes=1000, max_age_s=60))
    fill(outbox, 30, size=100)
    assert outbox.stats().depth == 10
    outbox.expire(NOW + 61_000)
    stats = outbox.stats()
    assert (stats.depth, stats.evicted) == (0, 30)


def test_acknowledged_messages_can_be_sent_again_when_the_gateway_misses_them(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "o.db")
    fill(outbox, 10)  # sequence numbers 1..10
    rows = outbox.take(ROUTINE, 0, 2**62, 10)
    outbox.remove([r.id for r in rows[:8]])  # the broker acknowledged 1..8
    assert outbox.stats().depth == 2
    # A crashed broker lost 3..5; 9 and 10 are still waiting to go out.
    assert outbox.requeue([(3, 5), (9, 10)]) == (3, 0)
    again = outbox.take(ROUTINE, rows[-1].id, 2**62, 10)
    assert [r.topic for r in again] == ["t/3", "t/4", "t/5"]
    assert outbox.stats().depth == 5
    # Asked again before they went out: nothing doubles.
    assert outbox.requeue([(3, 5)]) == (0, 0)
    outbox.remove([r.id for r in again])
    assert outbox.requeue([(4, 4)]) == (1, 0)  # kept again after their second PUBACK


def test_kept_messages_are_bounded_and_what_is_gone_is_said(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", Limits(sent_rows=5, sent_age_s=60))
    fill(outbox, 20)
    outbox.remove([r.id for r in outbox.take(ROUTINE, 0, 2**62, 20)])
    assert outbox.requeue([(1, 20)]) == (5, 15)  # only the newest five were kept
    outbox.remove([r.id for r in outbox.take(ROUTINE, 0, 2**62, 20)])
    outbox.expire(NOW + 61_000)
    assert outbox.requeue([(16, 20)]) == (0, 5)
    assert Outbox(tmp_path / "none.db", Limits(sent_rows=0)).requeue([(1, 1)]) == (0, 1)


def test_an_outbox_from_before_kept_messages_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, priority INTEGER "
            "NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL);"
            "INSERT INTO outbox (priority, topic, payload, created_ms) VALUES (1, 't/1', x'00', 1);"
        )
    outbox = Outbox(path)
    assert outbox.stats().depth == 1
    row = outbox.take(ROUTINE, 0, 2**62, 1)[0]
    outbox.remove([row.id])
    assert outbox.stats().depth == 0
    fill(outbox, 2)
    assert outbox.take(ROUTINE, 0, 2**62, 5)[0].topic == "t/1"


class Broker:
    """Stands in for paho's publish: records what was handed, gives message ids."""

    def __init__(self) -> None:
        self.handed: list[str] = []

    def publish(self, topic: str, payload: bytes) -> int:
        self.handed.append(topic)
        return len(self.handed)


def test_events_then_live_then_a_rate_limited_backlog(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    fill(outbox, 50)  # stored during an outage: the backlog
    broker = Broker()
    clock = FakeClock()
    sender = Sender(outbox, broker.publish, SenderSettings(window=20, backlog_rate=100), clock)
    sender.link_up()
    fill(outbox, 3)  # live routine readings
    fill(outbox, 2, priority=EVENT)  # a door opened, a panic button
    sender.pump()
    assert broker.handed[:5] == ["t/54", "t/55", "t/51", "t/52", "t/53"]
    # The backlog may use at most 3/4 of the window and its rate (10 tokens at 100/s).
    assert broker.handed[5:] == [f"t/{n}" for n in range(1, 11)]
    assert sender.backlog_pending()


def test_backlog_keeps_room_for_live_messages(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    fill(outbox, 500)
    broker = Broker()
    clock = FakeClock()
    sender = Sender(outbox, broker.publish, SenderSettings(window=20, backlog_rate=1e6), clock)
    sender.link_up()
    sender.pump()
    assert sender.in_flight == 15  # 3/4 of the window, unacknowledged
    fill(outbox, 1, priority=EVENT)
    sender.pump()
    assert broker.handed[-1] == "t/501"


def test_acknowledged_messages_leave_the_outbox_and_free_the_window(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    broker = Broker()
    clock = FakeClock()
    sender = Sender(outbox, broker.publish, SenderSettings(window=4, backlog_rate=1e6), clock)
    sender.link_up()
    fill(outbox, 6)
    sender.pump()
    assert len(broker.handed) == 4
    sender.acknowledged([1, 2, 3, 4])
    assert outbox.stats().depth == 2
    sender.pump()
    assert broker.handed[4:] == ["t/5", "t/6"]


def test_nothing_is_handed_twice_across_reconnects(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    broker = Broker()
    clock = FakeClock()
    sender = Sender(outbox, broker.publish, SenderSettings(window=10, backlog_rate=1e6), clock)
    sender.link_up()
    fill(outbox, 5)
    sender.pump()
    sender.link_down()  # unacknowledged: still in paho's session, resent by paho
    fill(outbox, 5)
    sender.link_up()
    sender.pump()  # the backlog skips what paho still holds; the window allows 2 more
    assert broker.handed == [f"t/{n}" for n in range(1, 8)]
    sender.acknowledged([1, 2, 3, 4, 5])  # paho resent them after the reconnect
    clock.advance(0.01)
    sender.pump()
    assert broker.handed == [f"t/{n}" for n in range(1, 11)]


def test_reconnect_delays_are_jittered_and_capped() -> None:

    delays = [jittered(attempt, cap_s=30) for attempt in range(12) for _ in range(20)]
    assert all(0.5 <= d <= 30 for d in delays)
    assert len({round(d, 3) for d in delays}) > 100  # spread out, not in lockstep
    assert max(jittered(40, cap_s=30) for _ in range(50)) > 15
