"""The durable core writes a batch on several connections at once and still acknowledges
nothing before every part of it is durable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import InfluxConfig
from gateway.durable import DurableCore
from gateway.spool import Spool
from gateway.stats import IngestStats
from gateway.writers.v1 import V1Writer
from tests.support.influx_writes import InfluxWrites, serving


@pytest.fixture
def influx_refusing_first() -> Iterator[InfluxWrites]:
    with serving(InfluxWrites(refuse=1, delay_s=0.2)) as server:
        yield server


def test_a_batch_goes_out_on_two_connections_and_is_acknowledged_once_all_is_durable(
    tmp_path: Path, influx_refusing_first: InfluxWrites
) -> None:
    influx = influx_refusing_first
    acknowledged: list[int] = []
    stats = IngestStats()
    core = DurableCore(
        InfluxConfig(url=influx.url, create_databases=False), V1Writer(influx.url),
        Spool(tmp_path / "spool.sqlite3", 2**24), stats,
        acknowledge=acknowledged.extend, on_spool_full=lambda problem: None, connections=2,
    )  # fmt: skip
    core.start()
    lines = [f"climate,device=d{n} temperature=21 {1_700_000_000_000 + n}" for n in range(10_000)]
    core.batch.add("civic_watch", lines)
    core.batch.add("civic_ops", [])  # a report with nothing to say
    for mid in range(1, 41):
        core.received(mid, 1)
    core.flush()
    time.sleep(0.1)  # both halves in flight, one of them refused
    assert acknowledged == []  # nothing while its writes are in flight
    core.flush(final=True)  # the spool drains: everything is written
    core.close()
    assert influx.most_in_flight == 2
    assert core.spool.points == 0 and stats.points_spooled == 5000  # the refused half
    assert sorted(influx.lines) == sorted(lines)
    assert acknowledged == list(range(1, 41))


def test_messages_whose_lines_are_one_string_are_counted_and_split_by_points(
    tmp_path: Path, influx_refusing_first: InfluxWrites
) -> None:
    """The usual message's lines come as one string (gateway/schema.py): requests,
    the spool and the figures count its points, not the strings."""
    influx = influx_refusing_first
    stats = IngestStats()
    core = DurableCore(
        InfluxConfig(url=influx.url, create_databases=False), V1Writer(influx.url),
        Spool(tmp_path / "spool.sqlite3", 2**24), stats,
        acknowledge=lambda mids: None, on_spool_full=lambda problem: None,
        max_points=4000, connections=2,
    )  # fmt: skip
    core.start()
    messages = ["\n".join(f"climate,device=d{n},sensor=r{r} temperature=21 {1_700_000_000_000 + n}"
                          for r in range(20)) for n in range(1000)]  # fmt: skip
    core.batch.add("civic_watch", messages)
    assert core.batch.size == 20_000
    core.flush(final=True)  # one request refused: spooled, then drained
    core.close()
    assert stats.points_spooled == 4000 and stats.points_written == 20_000
    assert core.spool.points == 0
    assert sorted(influx.lines) == sorted("\n".join(messages).split("\n"))
    assert max(influx.sizes) == 4000 and len(influx.sizes) == 5
