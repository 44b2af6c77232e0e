"""The durable core writes a batch on several connections at once and still acknowledges
nothing before every part of it is durable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.config import InfluxConfig
from gateway.durable import DurableCore
from gateway.spool import Spool
from gateway.stats import IngestStats
from gateway.writers.v1 import V1Writer


class SlowInflux(ThreadingHTTPServer):
    """A stand-in of InfluxDB 1.x's /write that takes its time (so overlapping writes
    show), answers 503 to the first ``refuse`` writes, and keeps what it took."""

    def __init__(self, refuse: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse = refuse
        self.lines: list[str] = []
        self.sizes: list[int] = []  # lines of each request taken
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive, as InfluxDB does
    server: SlowInflux

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
            refused = self.server.refuse > 0
            self.server.refuse -= refused
        time.sleep(0.2)
        with self.server.lock:
            self.server.in_flight -= 1
            if not refused:
                self.server.lines += body.split("\n")
                self.server.sizes.append(body.count("\n") + 1)
        self.send_response(503 if refused else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def influx_refusing_first() -> Iterator[SlowInflux]:
    server = SlowInflux(refuse=1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_batch_goes_out_on_two_connections_and_is_acknowledged_once_all_is_durable(
    tmp_path: Path, influx_refusing_first: SlowInflux
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
    tmp_path: Path, influx_refusing_first: SlowInflux
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
