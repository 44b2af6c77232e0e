"""The durable core: nothing is acknowledged before it is durable.

Points wait in a batch; ``flush`` hands the batch and the ids of the messages it came
from to the writer thread, which writes each database's lines to InfluxDB, or commits
them to the spool (SQLite, full fsync) when InfluxDB cannot take them, and only then
acknowledges those messages. The ingest thread decodes the next batch meanwhile (at
most two batches wait for the writer; then ``flush`` waits). The spool drains, oldest
first, when InfluxDB is back; while it holds anything, new batches queue behind it so
order is kept. InfluxDB's databases, retention and roll-ups are set up once it answers;
until then everything is spooled. Everything that touches InfluxDB or the spool runs on
the writer thread, in order.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from common.statelog import StateLog
from gateway import retention
from gateway.config import InfluxConfig
from gateway.errors import WriteError
from gateway.lineprotocol import point_count
from gateway.spool import Spool
from gateway.stats import IngestStats
from gateway.writers import Writer

log = logging.getLogger(__name__)
_MAX_BACKOFF_S = 30.0
_WAITING_BATCHES = 2
_MIN_CHUNK = 5_000  # lines: smaller requests cost InfluxDB more CPU per point (its docs: 5,000)
AckMany = Callable[[Iterable[int]], None]


class _Job(NamedTuple):
    lines: dict[str, list[str]]  # per database (an item may hold several lines)
    points: dict[str, int]  # per database
    mids: list[int]  # QoS 1 messages to acknowledge once the lines are durable
    final: bool = False  # the last: the spool is drained now, whatever the backoff


class Batch:
    """Lines waiting to be written, per database, with the age of the oldest."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = defaultdict(list)
        self.points: dict[str, int] = defaultdict(int)  # counted once, here
        self.size = 0
        self.started: float | None = None

    def add(self, database: str, lines: list[str], points: int | None = None) -> None:
        """Lines (an item may hold several) and, where the caller knows, their points."""
        if self.started is None:
            self.started = time.monotonic()
        self.lines[database].extend(lines)
        if points is None:
            points = point_count(lines)
        self.points[database] += points
        self.size += points

    def take(self) -> tuple[dict[str, list[str]], dict[str, int]]:
        taken = dict(self.lines), dict(self.points)
        self.lines.clear()
        self.points.clear()
        self.size = 0
        self.started = None
        return taken


class DurableCore:
    def __init__(
        self,
        influx: InfluxConfig,
        writer: Writer,
        spool: Spool,
        stats: IngestStats,
        *,
        acknowledge: AckMany,
        on_spool_full: Callable[[str], None],
        max_points: int = 10_000,
        connections: int = 2,
    ) -> None:
        self.batch = Batch()
        self.spool = spool
        self.influx_problem = ""
        self.storage_ready = not influx.create_databases
        self._influx = influx
        self._writer = writer
        self._stats = stats
        self._acknowledge = acknowledge
        self._max_points = max_points
        self._connections = connections
        # A batch's chunks are written at the same time, each on its own connection.
        self._pool = ThreadPoolExecutor(connections, "gateway-write") if connections > 1 else None
        self._on_spool_full = on_spool_full
        self._unacked: list[int] = []  # QoS 1 message ids of the batch, in arrival order
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=_WAITING_BATCHES)
        self._writer_thread: threading.Thread | None = None
        self._states = StateLog(log)
        self._next_drain = 0.0
        self._drain_delay = 0.5
        self._next_set_up = 0.0
        self._set_up_delay = 0.5

    @property
    def unacked(self) -> int:
        return len(self._unacked)

    @property
    def spool_full(self) -> bool:
        return self._states.is_failing("spool")

    def received(self, mid: int, qos: int) -> None:
        """A message whose points (if any) are in the batch; acknowledged once durable."""
        if qos == 1:
            self._unacked.append(mid)

    def next_wake(self, max_delay_s: float) -> float:
        """Seconds the ingest loop may wait for the next message before the batch is due."""
        if self.batch.started is None:
            return max_delay_s
        return max(0.0, self.batch.started + max_delay_s - time.monotonic())

    def start(self) -> None:
        """The writer thread: from here on, flushes are written while the next decodes."""
        self._writer_thread = threading.Thread(
            target=self._write_jobs, name="gateway-writer", daemon=True
        )
        self._writer_thread.start()

    def flush(self, *, final: bool = False) -> None:
        """Hand the batch to the writer (it waits when two batches are waiting already);
        ``final`` waits until everything handed over is durable and acknowledged."""
        if not (self.batch.size or self._unacked or final):
            return
        job = _Job(*self.batch.take(), self._unacked, final)
        self._unacked = []
        if self._writer_thread is None:
            self._complete(job)
            return
        self._jobs.put(job)
        if final:
            self._jobs.join()

    def settle(self) -> None:
        """Hand the batch over and wait until everything received so far is durable and
        acknowledged."""
        self.flush()
        if self._writer_thread is not None:
            self._jobs.join()

    def try_set_up(self) -> None:
        """Create databases, retention and roll-ups once InfluxDB answers; until then
        (and with backoff between tries) everything goes to the spool."""
        if self.storage_ready or time.monotonic() < self._next_set_up:
            return
        try:
            for line in self._writer.set_up(
                retention.plan(self._influx.databases, self._influx.retention)
            ):
                log.info("storage: %s", line)
        except WriteError as exc:
            # Even a refusal (wrong password) is retried: someone may fix it while the
            # spool keeps every reading.
            self._states.failed("storage set-up", exc.reason)
            self.influx_problem = f"storage set-up: {exc.reason}"
            self._next_set_up = time.monotonic() + self._set_up_delay
            self._set_up_delay = min(self._set_up_delay * 2, _MAX_BACKOFF_S)
            return
        self._states.ok("storage set-up")
        self.influx_problem = ""
        self.storage_ready = True

    def close(self) -> None:
        if self._writer_thread is not None:
            self._jobs.put(None)
            self._writer_thread.join()
        if self._pool is not None:
            self._pool.shutdown()
        self._writer.close()
        self.spool.close()

    # -- the writer thread -------------------------------------------------------------

    def _write_jobs(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self._idle_wait())
            except queue.Empty:
                self.try_set_up()
                self._drain()
                continue
            try:
                if job is None:
                    return
                self.try_set_up()
                self._complete(job)
            finally:
                self._jobs.task_done()

    def _idle_wait(self) -> float:
        """Until the next try at the set-up or at draining the spool."""
        if not self.storage_ready:
            return max(0.05, self._next_set_up - time.monotonic())
        if self.spool.batches:
            return max(0.05, self._next_drain - time.monotonic())
        return 1.0

    def _complete(self, job: _Job) -> None:
        """Make one batch durable (InfluxDB, else the spool), then acknowledge it."""
        chunks = self._chunks(job.lines, job.points)
        if not self.storage_ready or self.spool.batches:  # behind the spool, in order
            for database, chunk, points in chunks:
                self._to_spool(database, chunk, points)
        else:
            for (database, chunk, points), error in zip(
                chunks, self._write_all(chunks), strict=True
            ):
                if not self._settled(database, chunk, error, points):
                    self._to_spool(database, chunk, points)
        if job.mids:
            self._acknowledge(job.mids)
        self._drain(final=job.final)

    def _chunks(
        self, lines: dict[str, list[str]], points: dict[str, int]
    ) -> list[tuple[str, list[str], int]]:
        """Requests for a batch: as many as there are connections (InfluxDB parses each
        on about one core), none under ``_MIN_CHUNK`` points or (items being alike) over
        ``max_points`` (the once-a-minute report of 50,000 devices would otherwise be
        one 12 MiB body)."""
        chunks = []
        for database, items in lines.items():
            if not items:
                continue
            total = points[database]
            parts = max(1, min(self._connections, total // _MIN_CHUNK),
                        -(-total // self._max_points))  # fmt: skip
            size = -(-len(items) // parts)
            pieces = [items[start : start + size] for start in range(0, len(items), size)]
            counts = [point_count(piece) for piece in pieces[:-1]]  # the last: what is left
            counts.append(total - sum(counts))
            chunks += [(database, *pair) for pair in zip(pieces, counts, strict=True)]
        return chunks

    def _write_all(self, chunks: list[tuple[str, list[str], int]]) -> list[WriteError | None]:
        """Each chunk written, at once on the pool's connections when there are more."""
        if len(chunks) == 1 or self._pool is None:
            return [self._attempt(database, chunk) for database, chunk, _ in chunks]
        return list(self._pool.map(lambda chunk: self._attempt(chunk[0], chunk[1]), chunks))

    def _attempt(self, database: str, lines: list[str]) -> WriteError | None:
        try:
            self._writer.write(database, lines)
        except WriteError as exc:
            return exc
        return None

    def _write_once(self, database: str, lines: list[str]) -> bool:
        return self._settled(database, lines, self._attempt(database, lines), point_count(lines))

    def _settled(
        self, database: str, lines: list[str], error: WriteError | None, points: int
    ) -> bool:
        """True when the lines are done with: written, or refused for good (counted)."""
        source = f"InfluxDB {self._influx.url} database {database!r}"
        if error is not None:
            self._states.failed(source, error.reason)
            if error.retryable:
                self.influx_problem = error.reason
                return False
            self._stats.points_dropped += points
            log.error("dropped %d points for %s: %s", points, database, error.reason)
            return True
        self._states.ok(source)
        self.influx_problem = ""
        self._stats.points_written += points
        return True

    def _to_spool(self, database: str, lines: list[str], points: int) -> None:
        if self.spool.add(database, lines):
            self._stats.points_spooled += points
            self._states.ok("spool")
            return
        self._stats.spool_overflow_points += points
        problem = f"full ({self.spool.bytes} bytes); points are being dropped"
        if self._states.failed("spool", problem):
            self._on_spool_full(problem)

    def _drain(self, *, final: bool = False) -> None:
        """Write spooled batches, oldest first, until InfluxDB refuses again."""
        if not self.storage_ready or not self.spool.batches:
            return
        if time.monotonic() < self._next_drain and not final:
            return
        while (batch := self.spool.oldest()) is not None:
            if not self._write_once(batch.database, batch.lines):
                self._stats.write_retries += 1
                self._next_drain = time.monotonic() + self._drain_delay
                self._drain_delay = min(self._drain_delay * 2, _MAX_BACKOFF_S)
                return
            self.spool.remove(batch)
        self._drain_delay = 0.5
        log.warning("the spool is empty again: InfluxDB has every point")
