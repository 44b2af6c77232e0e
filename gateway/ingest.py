"""The ingest loop: MQTT messages in; validated, batched points out to InfluxDB.

paho's network thread only puts the message on a bounded queue; when the queue is full
it waits, which slows the broker connection down instead of growing memory. All
decoding, batching and writing happens on the gateway's own thread.

Nothing acknowledged is lost: a message is acknowledged to the broker (paho manual
ack) only once its points are durable, written to InfluxDB or committed to the spool
while InfluxDB cannot take them. Until then the broker keeps it in our session and
sends it again if the gateway dies. The spool drains, oldest first, when InfluxDB
is back; while it holds anything, new batches queue behind it so order is kept.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from civic_iot.mqttlink import new_client, say_offline, set_last_will, status_payload
from civic_iot.statelog import StateLog
from gateway.config import GatewayConfig
from gateway.errors import WriteError
from gateway.schema import message_lines
from gateway.spool import Spool
from gateway.stats import IngestStats
from gateway.writers import Writer
from provisioning.inventory import Inventory
from wire import DeadLetter, Kind, PayloadError, TopicError, decode_message, encode, now_ms
from wire import topics as wire_topics
from wire.payloads import dead_letter_text

log = logging.getLogger(__name__)
AGENT = "civic-iot-gateway"
QOS = 1
_MAX_BACKOFF_S = 30.0


class Inbound(NamedTuple):
    topic: str
    payload: bytes
    mid: int
    qos: int


class Batch:
    """Lines waiting to be written, per database, with the age of the oldest."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = defaultdict(list)
        self.size = 0
        self.started: float | None = None

    def add(self, database: str, lines: list[str]) -> None:
        if self.started is None:
            self.started = time.monotonic()
        self.lines[database].extend(lines)
        self.size += len(lines)

    def take(self) -> dict[str, list[str]]:
        taken = dict(self.lines)
        self.lines.clear()
        self.size = 0
        self.started = None
        return taken


class Ingest:
    def __init__(self, config: GatewayConfig, inventory: Inventory, writer: Writer) -> None:
        self.config = config
        self.inventory = inventory
        self.writer = writer
        self.stats = IngestStats()
        self.inbox: queue.Queue[Inbound] = queue.Queue(maxsize=config.queue_size)
        self._batch = Batch()
        self._unacked: list[tuple[int, int]] = []  # (mid, qos) in arrival order
        self.spool = Spool(
            Path(config.state_dir) / "spool.sqlite3", int(config.spool_max_mb * 1024 * 1024)
        )
        self._next_drain = 0.0
        self._drain_delay = 0.5
        self._states = StateLog(log)
        self._stop = threading.Event()
        self._status_topic = wire_topics.service_status(config.gateway_id)
        self._dead_letter_topic = wire_topics.dead_letter(config.gateway_id)
        self.client = self._make_client()

    # -- lifecycle ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        if self.config.influx.dialect == "v1" and self.config.influx.create_databases:
            self._with_retry("create databases", self._create_databases)
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.config.session_expiry_s
        properties.ReceiveMaximum = self.config.max_unacked
        self.client.connect_async(
            self.config.mqtt.host,
            self.config.mqtt.port,
            self.config.mqtt.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self.client.loop_start()
        try:
            while not stop.is_set():
                self._step()
        finally:
            self._drain_and_flush()
            self._close()

    def _step(self) -> None:
        timeout = self.config.batch.max_delay_s
        if self._batch.started is not None:
            timeout = max(0.0, self._batch.started + timeout - time.monotonic())
        if self.spool.batches:
            timeout = min(timeout, max(0.0, self._next_drain - time.monotonic()))
        try:
            inbound = self.inbox.get(timeout=timeout)
        except queue.Empty:
            self.flush()
            return
        self.receive(inbound)
        if (
            self._batch.size >= self.config.batch.max_points
            or len(self._unacked) >= self.config.max_unacked
        ):
            self.flush()

    def receive(self, inbound: Inbound) -> None:
        self.handle(inbound.topic, inbound.payload)
        if inbound.qos > 0:
            self._unacked.append((inbound.mid, inbound.qos))

    def _drain_and_flush(self) -> None:
        self.client.unsubscribe(self._subscriptions())
        while True:
            try:
                self.receive(self.inbox.get_nowait())
            except queue.Empty:
                break
        self.flush(final=True)

    def _close(self) -> None:
        say_offline(self.client, self._status_topic, AGENT)
        self.client.disconnect()
        self.client.loop_stop()
        self.writer.close()
        self.spool.close()
        log.info("gateway stopped: %s", self.stats.as_dict())

    # -- one message -------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> None:
        self.stats.messages += 1
        try:
            device = wire_topics.parse(topic)
        except TopicError as exc:
            self.dead_letter(topic, payload, str(exc), "$")
            return
        placement = self.inventory.placement(device.device_id)
        if placement is None:
            reason = f"unknown device {device.device_id!r}: not listed in firmware-config"
            self.dead_letter(topic, payload, reason, "topic")
            return
        try:
            message = decode_message(payload, topic=topic)
        except PayloadError as exc:
            self.dead_letter(topic, payload, exc.reason, exc.where)
            return
        self.stats.readings += len(message.readings)
        for zone, lines in message_lines(message, device.device_id, placement).items():
            self._batch.add(self.config.influx.databases.of(zone), lines)

    def dead_letter(self, topic: str, payload: bytes, reason: str, where: str) -> None:
        self.stats.dead_letters += 1
        text, encoding = dead_letter_text(payload)
        letter = DeadLetter(
            schema=1,
            topic=topic,
            reason=reason,
            where=where,
            received_ts=now_ms(),
            payload=text,
            encoding=encoding,
        )
        self.client.publish(self._dead_letter_topic, encode(letter), qos=QOS)
        log.debug("dead letter from %s at %s: %s", topic, where, reason)

    # -- writing -----------------------------------------------------------------------

    def flush(self, *, final: bool = False) -> None:
        """Make the batch durable (InfluxDB, else the spool), then acknowledge it."""
        for database, lines in self._batch.take().items():
            if self.spool.batches or not self._write_once(database, lines):
                self._to_spool(database, lines)
        self._acknowledge()
        self._drain(final=final)

    def _write_once(self, database: str, lines: list[str]) -> bool:
        """True when the lines are done with: written, or refused for good (counted)."""
        source = f"InfluxDB {self.config.influx.url} database {database!r}"
        try:
            self.writer.write(database, lines)
        except WriteError as exc:
            self._states.failed(source, exc.reason)
            if exc.retryable:
                return False
            self.stats.points_dropped += len(lines)
            log.error("dropped %d points for %s: %s", len(lines), database, exc.reason)
            return True
        self._states.ok(source)
        self.stats.points_written += len(lines)
        return True

    def _to_spool(self, database: str, lines: list[str]) -> None:
        if self.spool.add(database, lines):
            self.stats.points_spooled += len(lines)
            self._states.ok("spool")
            return
        self.stats.spool_overflow_points += len(lines)
        self._states.failed("spool", f"full ({self.spool.bytes} bytes); points are being dropped")

    def _acknowledge(self) -> None:
        for mid, qos in self._unacked:
            self.client.ack(mid, qos)
        self._unacked.clear()

    def _drain(self, *, final: bool = False) -> None:
        """Write spooled batches, oldest first, until InfluxDB refuses again."""
        if not self.spool.batches or (time.monotonic() < self._next_drain and not final):
            return
        while (batch := self.spool.oldest()) is not None:
            if not self._write_once(batch.database, batch.lines):
                self.stats.write_retries += 1
                self._next_drain = time.monotonic() + self._drain_delay
                self._drain_delay = min(self._drain_delay * 2, _MAX_BACKOFF_S)
                return
            self.spool.remove(batch)
        self._drain_delay = 0.5
        log.warning("the spool is empty again: InfluxDB has every point")

    def _create_databases(self) -> None:
        self.writer.ensure_databases(self.config.influx.databases.all())

    def _with_retry(self, what: str, action: Callable[[], None]) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                action()
            except WriteError as exc:
                self._states.failed(what, exc.reason)
                if not exc.retryable:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S)
                continue
            self._states.ok(what)
            return

    # -- MQTT --------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = new_client(self.config.gateway_id, self.config.mqtt)
        client.manual_ack_set(True)
        client.max_inflight_messages_set(100)
        set_last_will(client, self._status_topic, AGENT)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        return client

    def _subscriptions(self) -> list[str]:
        filters = [
            wire_topics.all_devices(kind) for kind in (Kind.TELEMETRY, Kind.EVENT, Kind.HEALTH)
        ]
        group = self.config.shared_group
        return [wire_topics.shared(group, f) if group else f for f in filters]

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            return
        client.subscribe([(topic, QOS) for topic in self._subscriptions()])
        client.publish(self._status_topic, status_payload("online", AGENT), qos=QOS, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.put(Inbound(message.topic, bytes(message.payload), message.mid, message.qos))
