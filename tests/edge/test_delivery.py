"""Never lose a reading: a real agent process, a real broker, and things going wrong."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto, free_port
from tests.edge.agent_process import DEVICE, busy_collectors, start_agent, write_config
from tests.support.mqtt import Recorder, settle, wait_for
from wire import Message, decode_message, topics

pytestmark = pytest.mark.services
READINGS = (topics.telemetry(DEVICE), topics.event(DEVICE), topics.health(DEVICE))


def received(recorder: Recorder) -> list[Message]:
    return [decode_message(payload) for _, payload, _ in recorder.snapshot()]


def first_seen(messages: list[Message]) -> list[int]:
    seen: set[int] = set()
    order = []
    for message in messages:
        if message.seq not in seen:
            seen.add(message.seq)
            order.append(message.seq)
    return order


def no_holes(recorder: Recorder, beyond: int = 0) -> bool:
    seqs = set(first_seen(received(recorder)))
    top = max(seqs, default=0)
    return top > beyond and seqs == set(range(1, top + 1))


def left_in_outbox(tmp: Path) -> tuple[int, set[int]]:
    """The last sequence number the agent stored, and those still waiting in its outbox."""
    path = tmp / "state" / "outbox.sqlite3"
    if not path.exists():
        return 0, set()
    with sqlite3.connect(path) as db:
        try:
            row = db.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()
            payloads = db.execute("SELECT payload FROM outbox").fetchall()
        except sqlite3.OperationalError:  # the agent has created the file, not yet its tables
            return 0, set()
    return (row[0] if row else 0), {decode_message(p).seq for (p,) in payloads}


def interleaved_runs(order: list[int], runs: int) -> bool:
    """Live messages overtake the backlog, so arrivals are interleaved runs, each in
    sequence order: one per (re)connection, plus live (patience sorting with piles)."""
    piles = [0] * runs
    for seq in order:
        fits = [i for i, top in enumerate(piles) if top < seq]
        if not fits:
            return False
        best = max(fits, key=lambda i: piles[i])
        piles[best] = seq
    return True


def test_broker_restart_mid_stream_loses_nothing_and_keeps_order(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    recorder = Recorder(mosquitto, *READINGS, persistent=True)
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_for(lambda: len(recorder.snapshot()) >= 20, what="messages before the outage")
    mosquitto.stop()
    time.sleep(2)  # the agent keeps collecting into its outbox
    before_restart = max(first_seen(received(recorder)))
    mosquitto.start()
    wait_for(lambda: no_holes(recorder, beyond=before_restart + 40), timeout_s=30, what="catch-up")
    assert agent.terminate() == 0, agent.log()
    recorder_order = first_seen(received(recorder))
    last, waiting = left_in_outbox(tmp_path)
    assert set(recorder_order) | waiting == set(range(1, last + 1))
    # Connections: the first (readings stored before it are a backlog too) and the one
    # after the restart; each leaves a backlog, and live messages go ahead of both.
    assert interleaved_runs(recorder_order, runs=3)
    assert not interleaved_runs(recorder_order[::-1], runs=3)  # the check does bite
    assert "connection lost" in agent.log()
    recorder.close()


def test_agent_killed_mid_publish_resumes_without_gaps(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    recorder = Recorder(mosquitto, *READINGS, persistent=True)
    config = write_config(tmp_path, mosquitto.port)
    agent = start_agent(tmp_path, config)
    wait_for(lambda: len(recorder.snapshot()) >= 30, what="a stream to interrupt")
    agent.kill()  # SIGKILL: no goodbye, no flush
    killed_at = max(first_seen(received(recorder)))
    again = start_agent(tmp_path, config, "agent2.log")
    wait_for(
        lambda: no_holes(recorder, beyond=killed_at + 30),
        timeout_s=30,
        what="no gaps after restart",
    )
    assert again.terminate() == 0, again.log()
    last, waiting = left_in_outbox(tmp_path)
    assert set(first_seen(received(recorder))) | waiting == set(range(1, last + 1))
    recorder.close()


def test_a_full_outbox_evicts_the_oldest_reports_it_and_keeps_running(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    recorder = Recorder(mosquitto, topics.health(DEVICE), persistent=True)
    mosquitto.stop()  # the recorder's session waits in the broker's persistence
    extra = "outbox: {max_messages: 100}"
    config = write_config(tmp_path, mosquitto.port, extra, busy_collectors())
    agent = start_agent(tmp_path, config)
    settle(lambda: left_in_outbox(tmp_path)[0] > 250 or not agent.running, timeout_s=20)
    assert agent.running, agent.log()
    mosquitto.start()

    def evictions_reported() -> list[dict[str, object]]:
        reports = []
        for message in received(recorder):
            values = {r.quantity: r.value for r in message.readings}
            if values.get("agent.evicted", 0):
                reports.append(values)
        return reports

    reports = wait_for(evictions_reported, timeout_s=30, what="a health reading with evictions")
    settle(lambda: max(r["agent.evicted"] for r in evictions_reported()) >= 150)  # type: ignore[type-var]
    reports = evictions_reported()
    assert all(r["agent.outbox_depth"] <= 100 for r in reports)  # type: ignore[operator]
    assert max(r["agent.evicted"] for r in reports) >= 150  # type: ignore[type-var]
    assert agent.running
    agent.terminate()
    recorder.close()


def test_a_live_event_overtakes_the_backlog(tmp_path: Path, mosquitto: Mosquitto) -> None:
    port = free_port()
    quiet = Mosquitto(tmp_path / "later", port)
    collectors = (
        busy_collectors()
        + "  - {type: simulated, name: door, interval_s: 1.0, kinds: [door], event_rate: 1.0}"
    )
    extra = "outbox: {backlog_rate: 50}"
    agent = start_agent(tmp_path, write_config(tmp_path, port, extra, collectors))
    settle(lambda: left_in_outbox(tmp_path)[0] > 300 or not agent.running, timeout_s=30)
    assert agent.running, agent.log()  # an outage's backlog is waiting
    quiet.start()
    recorder = Recorder(quiet, topics.event(DEVICE), topics.telemetry(DEVICE))
    try:
        restart = time.time()
        wait_for(
            lambda: any(
                m.ts / 1000 > restart
                for m in received(recorder)
                if m.readings[0].quantity == "door.open"
            ),
            timeout_s=15,
            what="a door event created after the link came back",
        )

        def arrivals() -> list[tuple[Message, float]]:
            return [(decode_message(payload), at) for payload, at in recorder.timed()]

        arrived = next(
            t
            for m, t in arrivals()
            if m.readings[0].quantity == "door.open" and m.ts / 1000 > restart
        )

        def backlog_after_it() -> list[Message]:
            return [m for m, t in arrivals() if t > arrived and m.ts / 1000 < restart]

        # The backlog was still draining: more of it arrives after the live event.
        wait_for(backlog_after_it, timeout_s=5, what="backlog arriving after the live event")
    finally:
        agent.terminate()
        recorder.close()
        quiet.kill()
