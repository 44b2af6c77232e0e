"""The ingest loop: MQTT messages in; validated, batched points out to InfluxDB.

paho's network thread cuts whatever one read brought into messages and puts the list
in the inbox (common/batchclient.py, gateway/inbox.py), which holds at most
``queue_size`` messages: beyond that the network thread waits and TCP slows the
broker. Decoding and batching happen on the gateway's own thread, writing on the
durable core's writer thread, so the next batch decodes while the last one is written.

Nothing acknowledged is lost: a message is acknowledged to the broker (paho manual
ack) only once its points are durable, written to InfluxDB or committed to the spool
while InfluxDB cannot take them. Until then the broker keeps it in our session and
sends it again if the gateway dies. The spool drains, oldest first, when InfluxDB
is back; while it holds anything, new batches queue behind it so order is kept.
The device registry is saved every ``registry_save_s`` and at stop, each time once
everything received before is durable: after a crash its sequence figures lag by at
most those seconds (which at worst asks a device to resend what is stored already;
points are idempotent) and never run ahead of what InfluxDB or the spool holds.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from pathlib import Path

from common import memory
from common.city.inventory import Inventory
from common.serviceclient import Inbound, ServiceClient, ServiceStatus
from common.systemd import Watchdog
from gateway.announce import Announcer
from gateway.config import GatewayConfig, tracks_sequences
from gateway.durable import DurableCore
from gateway.errors import GatewayError
from gateway.fleetstate import DeviceState
from gateway.fleetwatch import FleetWatch
from gateway.gaps import GapRepair
from gateway.httpapi import HttpApi, Snapshot
from gateway.inbox import Inbox
from gateway.opsreport import OpsReport
from gateway.registry import Registry
from gateway.rollout import RolloutDriver
from gateway.routing import Router
from gateway.spool import Spool
from gateway.stats import IngestStats
from gateway.writers import Writer
from wire import Kind, now_ms
from wire import topics as wire_topics

log = logging.getLogger(__name__)
AGENT = "civic-iot-gateway"
_FLEET_CHECK_S = 10.0
_IDLE_WAKE_S = 1.0
_SWITCH_INTERVAL_S = 0.0005
_RETAINED_KINDS = (Kind.STATUS, Kind.CONFIG_DESIRED, Kind.CONFIG_REPORTED, Kind.RELEASE_REPORTED)

__all__ = ["AGENT", "Inbound", "Ingest"]


class Ingest:
    """The gateway: MQTT in (the service client), routing, the durable core, fleet
    watching and the resend requests, on one thread with one clock."""

    def __init__(self, config: GatewayConfig, inventory: Inventory, writer: Writer) -> None:
        self.config = config
        self.inventory = inventory
        self.stats = IngestStats()
        self.inbox = Inbox(config.queue_size, int(config.queue_mb * 2**20))
        state = Path(config.state_dir)
        self.registry = Registry(state / "registry.sqlite3", inventory, tracks_sequences(config))
        self.ops = OpsReport(config.gateway_id)
        self.mqtt = ServiceClient(
            config.gateway_id, config.mqtt, log, deliver_batch=self.inbox.put,
            subscriptions=self._subscriptions, manual_ack=True, max_inflight=100,
            status=ServiceStatus(wire_topics.service_status(config.gateway_id), AGENT),
        )  # fmt: skip
        self.announce = Announcer(config.gateway_id, self.mqtt.publish, self.stats)
        self.durable = DurableCore(
            config.influx, writer, Spool(state / "spool.sqlite3", int(config.spool_max_mb * 2**20)),
            self.stats, acknowledge=self.mqtt.ack_many, on_spool_full=self._spool_full,
            max_points=config.batch.max_points, connections=config.influx.connections,
        )  # fmt: skip
        # Half the window: the broker can send the next batch while this one is written.
        self._flush_unacked = max(1, config.max_unacked // 2)
        self.batch = self.durable.batch
        self.gaps = GapRepair(self.announce.command, config.resend)
        for record in self.registry:  # gaps from before a restart are still worth asking
            self.gaps.note(record, time.monotonic())
        self.router = Router(
            inventory, config.influx.databases, self.registry, self.batch, self.announce,
            stats=self.stats, ops=self.ops, gaps=self.gaps, max_series=config.series_cache,
        )  # fmt: skip
        self.fleet = FleetWatch(self.registry, self.announce, config.offline_after_s)
        self.rollouts = RolloutDriver(self.registry.db, inventory, self.mqtt.publish,
                                      self.registry.get)  # fmt: skip
        self._next_fleet_check = self._next_rollout_check = 0.0
        self._next_registry_save = time.monotonic() + config.registry_save_s
        self._saved = 0.0
        self._next_ops_report = time.monotonic() + config.ops_interval_s
        self.snapshot = Snapshot()
        self.http = self._make_http()

    # -- lifecycle ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        # One try at the storage set-up, then MQTT and /healthz whatever came of it: with
        # InfluxDB down at start, readings are spooled (and acknowledged) while the set-up
        # is retried in the loop.
        self.durable.try_set_up()
        # The writer's threads wait for the GIL after every answer from InfluxDB while
        # this thread decodes: at Python's 5 ms switch interval InfluxDB waited for its
        # next request (0.5 ms: about 12 % more points/s in alternating runs).
        sys.setswitchinterval(_SWITCH_INTERVAL_S)
        memory.big_buffers_unmapped()  # request bodies are built on the writer threads
        self.durable.start()
        self.mqtt.start(
            session_expiry_s=self.config.session_expiry_s,
            receive_maximum=self.config.max_unacked,
        )
        if self.http:
            self.http.start()
        watchdog = Watchdog()
        watchdog.ready()
        try:
            while not stop.is_set():
                self._step()
                self._tick()
                watchdog.pet(time.monotonic())
        finally:
            watchdog.stopping()
            self._drain_and_flush()
            self._close()

    def handle(self, topic: str, payload: bytes) -> None:
        """One message, routed (for tests and tools; the loop takes them from MQTT)."""
        self.router.handle(topic, payload)

    def flush(self, *, final: bool = False) -> None:
        self.durable.flush(final=final)

    def _step(self) -> None:
        # With points waiting: until the batch is due or the stream has been quiet;
        # else at most a second, so the clock's work and a stop are not kept waiting.
        longest_s = self.config.batch.quiet_s if self.batch.size else _IDLE_WAKE_S
        wait = min(self.durable.next_wake(self.config.batch.max_delay_s), longest_s)
        try:
            received = self.inbox.get(timeout=wait)
        except queue.Empty:
            self.flush()
            return
        self._receive(received)

    def _receive(self, received: list[Inbound]) -> None:
        handle, note = self.router.handle, self.durable.received
        max_points, max_unacked = self.config.batch.max_points, self._flush_unacked
        for topic, payload, mid, qos, _ in received:
            handle(topic, payload)
            note(mid, qos)
            if self.batch.size >= max_points or self.durable.unacked >= max_unacked:
                self.flush()

    def _drain_and_flush(self) -> None:
        self.mqtt.unsubscribe()
        while True:
            try:
                self._receive(self.inbox.get_nowait())
            except queue.Empty:
                break
        self.inbox.close()  # later messages stay unacknowledged: the broker keeps them
        self._check_fleet()
        self._report_ops()  # the last interval's figures too
        self.flush(final=True)

    def _close(self) -> None:
        self.mqtt.close()
        if self.http:
            self.http.close()
        self.durable.close()
        self.registry.close()
        log.info("gateway stopped: %s", self.stats.as_dict())

    # -- on the clock ------------------------------------------------------------------

    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_fleet_check:
            self._next_fleet_check = now + min(_FLEET_CHECK_S, self.config.offline_after_s / 2)
            self._check_fleet()
            self.gaps.check(self.registry.get, now, now_ms())
        # Readings wait for the cadence; a status, config or release change (rare, read
        # by other processes) is saved within a second.
        if now >= self._next_registry_save or (self.registry.urgent and now >= self._saved + 1):
            self._next_registry_save = now + self.config.registry_save_s
            self._saved = now
            self._save_registry()
        if now >= self._next_ops_report:
            self._next_ops_report = now + self.config.ops_interval_s
            self._report_ops()
            self.flush()  # a line per device: out at once rather than held with readings
        if now >= self._next_rollout_check and self.mqtt.connected.is_set():
            self._next_rollout_check = now + self.config.rollouts.check_s
            if self.registry.urgent:  # what a rollout decides from is on disk first
                self._save_registry()
            self.rollouts.check()  # from the records in memory

    def _save_registry(self) -> None:
        # The registry says which sequence numbers arrived. Saved ahead of their points,
        # a crash of the gateway and the broker together (a power cut) would lose those
        # messages from both while the saved registry says no number is missing, so
        # nobody asks the device for them: what it says is durable first.
        self.durable.settle()
        self.registry.save()

    def _check_fleet(self) -> None:
        counts = self.fleet.check()
        self.snapshot = Snapshot(
            counters=self.stats.as_dict(),
            gauges=self._gauges(),
            devices={state.value: counts[state] for state in DeviceState},
            broker_connected=self.mqtt.connected.is_set(),
            influx_problem=self.durable.influx_problem,
            spool_full=self.durable.spool_full,
        )

    def _gauges(self) -> dict[str, int]:
        spool = self.durable.spool
        return {
            "spool_points": spool.points,
            "spool_bytes": spool.bytes,
            "queue_depth": self.inbox.qsize(),
            "unacked_messages": self.durable.unacked,
            "publishes_refused_too_large": self.mqtt.publish.refused,
        }

    def _report_ops(self) -> None:
        lines = self.ops.take_lines(
            self.registry, self.stats, self._gauges(), self.fleet.counts(), now_ms()
        )
        self.batch.add(self.config.influx.databases.operations, lines)

    def _spool_full(self, problem: str) -> None:
        self.announce.event(
            "spool-overflow", None, f"gateway {self.config.gateway_id}: spool {problem}"
        )

    # -- set-up ------------------------------------------------------------------------

    def _subscriptions(self) -> list[str]:
        readings = [wire_topics.all_devices(kind) for kind in wire_topics.READING_KINDS]
        readings.append(wire_topics.all_service_alerts())
        group = self.config.shared_group
        if group:
            readings = [wire_topics.shared(group, f) for f in readings]
        # Retained status and config go to every worker: each keeps a whole registry,
        # and a shared subscription would not get retained messages at all.
        return sorted(readings) + [wire_topics.all_devices(kind) for kind in _RETAINED_KINDS]

    def _make_http(self) -> HttpApi | None:
        if self.config.http_listen is None:
            return None
        host, _, port = self.config.http_listen.rpartition(":")
        try:
            return HttpApi(host or "127.0.0.1", int(port), lambda: self.snapshot)
        except OSError as exc:
            raise GatewayError(
                f"gateway {self.config.gateway_id}: cannot serve /metrics on http_listen "
                f"{self.config.http_listen!r}: {exc.strerror}; choose another port or null"
            ) from exc
