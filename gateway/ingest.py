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
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common.city.inventory import Inventory
from common.mqttlink import (
    BoundedPublisher,
    ConnectionLog,
    new_client,
    say_offline,
    set_last_will,
    status_payload,
)
from common.statelog import StateLog
from gateway import retention
from gateway.config import GatewayConfig, tracks_sequences
from gateway.errors import GatewayError, WriteError
from gateway.fleetstate import DeviceState, state_of
from gateway.gaps import GapRepair
from gateway.httpapi import HttpApi, Snapshot
from gateway.opsreport import OpsReport
from gateway.registry import Registry
from gateway.registry_db import DeviceRecord
from gateway.schema import alert_line, message_lines
from gateway.spool import Spool
from gateway.stats import IngestStats
from gateway.writers import Writer
from wire import (
    AlertState,
    ConfigDesired,
    ConfigReported,
    Kind,
    Message,
    PayloadError,
    ServiceEvent,
    Status,
    TopicError,
    decode,
    encode,
    now_ms,
)
from wire import topics as wire_topics
from wire.payloads import (
    ServiceEventKind,
    clock_problem,
    decode_plausible,
    guard_sensor_names,
)
from wire.payloads import dead_letter as wire_dead_letter

log = logging.getLogger(__name__)
AGENT = "civic-iot-gateway"
QOS = 1
_MAX_BACKOFF_S = 30.0
# A device's distinct sensor names: more than this is free text or an address leaking
# into a tag, which would make InfluxDB's series count explode.
_UNKNOWN_EVENT_EVERY_MS = 3_600_000
_FLEET_CHECK_S = 10.0
_RETAINED_KINDS = (Kind.STATUS, Kind.CONFIG_DESIRED, Kind.CONFIG_REPORTED)


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
        self.registry = Registry(
            Path(config.state_dir) / "registry.sqlite3", inventory, tracks_sequences(config)
        )
        self.ops = OpsReport(config.gateway_id)
        self.gaps = GapRepair(self._command, config.resend)
        for record in self.registry:  # gaps from before a restart are still worth asking
            self.gaps.note(record, time.monotonic())
        self._sensors: dict[str, set[str]] = defaultdict(set)
        self._unknown_told: dict[str, int] = {}
        self._alerts_services = {s.id for s in inventory.city.services if s.role == "alerts"}
        self._fleet: dict[str, DeviceState] = {}
        self._next_fleet_check = 0.0
        self._next_ops_report = time.monotonic() + config.ops_interval_s
        self._influx_problem = ""
        self._storage_ready = not config.influx.create_databases
        self._next_set_up = 0.0
        self._set_up_delay = 0.5
        self._connected = False
        self.snapshot = Snapshot()
        self._states = StateLog(log)
        self._stop = threading.Event()
        self._status_topic = wire_topics.service_status(config.gateway_id)
        self._dead_letter_topic = wire_topics.dead_letter(config.gateway_id)
        self._event_topic = wire_topics.service_event(config.gateway_id)
        self._link_log = ConnectionLog(log, config.mqtt)
        self.client = self._make_client()
        self.publish = BoundedPublisher(self.client)
        self.http = self._make_http()

    # -- lifecycle ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        # One try at the storage set-up, then MQTT and /healthz whatever came of it: with
        # InfluxDB down at start, readings are spooled (and acknowledged) while the set-up
        # is retried in the loop.
        self._stop = stop
        self._try_storage_set_up()
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
        if self.http:
            self.http.start()
        try:
            while not stop.is_set():
                self._try_storage_set_up()
                self._step()
                self._tick()
        finally:
            self._drain_and_flush()
            self._close()

    def _step(self) -> None:
        timeout = self.config.batch.max_delay_s
        if self._batch.started is not None:
            timeout = max(0.0, self._batch.started + timeout - time.monotonic())
        if not self._storage_ready:  # wake for the next try at the set-up, no sooner
            timeout = min(timeout, max(0.0, self._next_set_up - time.monotonic()))
        elif self.spool.batches:
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
        self._check_fleet()
        self._report_ops()  # the last interval's figures too
        self.flush(final=True)

    def _close(self) -> None:
        say_offline(self.client, self._status_topic, AGENT)
        self.client.disconnect()
        self.client.loop_stop()
        if self.http:
            self.http.close()
        self.writer.close()
        self.spool.close()
        self.registry.close()
        log.info("gateway stopped: %s", self.stats.as_dict())

    # -- one message -------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> None:
        self.stats.messages += 1
        service = wire_topics.parse_service(topic)
        if service is not None and service.kind is wire_topics.ServiceKind.ALERT:
            if service.service_id in self._alerts_services:
                self._alert_state(topic, payload)
            else:  # only the city's alerts service says what is open on the dashboards
                reason = f"{service.service_id!r} is not an alerts service in firmware-config"
                self.dead_letter(topic, payload, reason, "$")
            return
        try:
            device = wire_topics.parse(topic)
        except TopicError as exc:
            self.dead_letter(topic, payload, str(exc), "$")
            return
        try:
            if device.kind in wire_topics.READING_KINDS:
                self._readings(device.device_id, topic, payload)
            else:
                self._retained(device, topic, payload)
        except PayloadError as exc:
            self.dead_letter(topic, payload, exc.reason, exc.where)

    def _readings(self, device_id: str, topic: str, payload: bytes) -> None:
        received = now_ms()
        record = self.registry.seen(device_id, received)
        placement = self.inventory.placement(device_id)
        if placement is None or not record.listed:
            self._unknown_device(record, topic, received)
            return
        message, implausible = decode_plausible(payload, topic=topic)
        for problem in implausible:  # the reading is refused, the others are stored
            self.dead_letter(topic, payload, problem.reason, problem.where)
        clock_problem(message, received, topic=topic)
        self._guard_sensors(device_id, message, topic)
        verdict = self.registry.message(record, message, received)
        if record.sequence.missing:
            self.gaps.note(record, time.monotonic())
        self.ops.message(device_id, len(message.readings), received - message.ts, verdict)
        self.stats.readings += len(message.readings)
        for zone, lines in message_lines(message, device_id, placement).items():
            self._batch.add(self.config.influx.databases.of(zone), lines)

    def _alert_state(self, topic: str, payload: bytes) -> None:
        """The alerts service's view of an alert, stored in its site's zone for the
        dashboards' open-alerts panels."""
        try:
            state = decode(payload, AlertState, topic=topic)
            site = self.inventory.sites.get(state.site)
            if site is None:
                raise PayloadError(
                    f"site {state.site!r} is not in firmware-config", where="$.site", topic=topic
                )
        except PayloadError as exc:
            self.dead_letter(topic, payload, exc.reason, exc.where)
            return
        self._batch.add(self.config.influx.databases.of(site.zone), [alert_line(state)])

    def _guard_sensors(self, device_id: str, message: Message, topic: str) -> None:
        guard_sensor_names(self._sensors[device_id], device_id, message, topic)

    def _unknown_device(self, record: DeviceRecord, topic: str, received: int) -> None:
        self.stats.unknown_device_messages += 1
        told = self._unknown_told.get(record.device_id)
        if told is None or received - told >= _UNKNOWN_EVENT_EVERY_MS:
            self._unknown_told[record.device_id] = received
            log.warning("unknown device %s publishes on %s; not stored", record.device_id, topic)
            detail = f"publishes on {topic} but is not listed in firmware-config; not stored"
            self.event("unknown-device", record, detail)

    def _retained(self, device: wire_topics.DeviceTopic, topic: str, payload: bytes) -> None:
        """Status and config topics: the registry's view of the device."""
        device_id = device.device_id
        if device.kind is Kind.STATUS:
            self.registry.status(
                device_id, decode(payload, Status, topic=topic) if payload else None
            )
        elif device.kind is Kind.CONFIG_DESIRED:
            desired = decode(payload, ConfigDesired, topic=topic) if payload else None
            self.registry.desired(device_id, desired)
        elif device.kind is Kind.CONFIG_REPORTED:
            reported = decode(payload, ConfigReported, topic=topic) if payload else None
            self.registry.reported(device_id, reported)

    def event(self, kind: ServiceEventKind, record: DeviceRecord | None, detail: str) -> None:
        message = ServiceEvent(
            schema=1,
            kind=kind,
            ts=now_ms(),
            device=record.device_id if record else "",
            site=record.site if record else "",
            detail=detail,
        )
        self.publish(self._event_topic, encode(message), qos=QOS)

    def _command(self, topic: str, payload: bytes) -> None:
        self.stats.resend_requests += 1
        self.publish(topic, payload, qos=QOS)

    def dead_letter(self, topic: str, payload: bytes, reason: str, where: str) -> None:
        self.stats.dead_letters += 1
        letter = wire_dead_letter(topic, payload, reason, where, now_ms())
        self.publish(self._dead_letter_topic, encode(letter), qos=QOS)
        log.debug("dead letter from %s at %s: %s", topic, where, reason)

    # -- writing -----------------------------------------------------------------------

    def flush(self, *, final: bool = False) -> None:
        """Make the batch durable (InfluxDB, else the spool), then acknowledge it."""
        for database, lines in self._batch.take().items():
            if (
                not self._storage_ready
                or self.spool.batches
                or not self._write_once(database, lines)
            ):
                self._to_spool(database, lines)
        self.registry.save()
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
                self._influx_problem = exc.reason
                return False
            self.stats.points_dropped += len(lines)
            log.error("dropped %d points for %s: %s", len(lines), database, exc.reason)
            return True
        self._states.ok(source)
        self._influx_problem = ""
        self.stats.points_written += len(lines)
        return True

    def _to_spool(self, database: str, lines: list[str]) -> None:
        if self.spool.add(database, lines):
            self.stats.points_spooled += len(lines)
            self._states.ok("spool")
            return
        self.stats.spool_overflow_points += len(lines)
        problem = f"full ({self.spool.bytes} bytes); points are being dropped"
        if self._states.failed("spool", problem):
            self.event("spool-overflow", None, f"gateway {self.config.gateway_id}: spool {problem}")

    def _acknowledge(self) -> None:
        for mid, qos in self._unacked:
            self.client.ack(mid, qos)
        self._unacked.clear()

    def _drain(self, *, final: bool = False) -> None:
        """Write spooled batches, oldest first, until InfluxDB refuses again."""
        if not self._storage_ready or not self.spool.batches:
            return
        if time.monotonic() < self._next_drain and not final:
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

    # -- fleet state and operations figures -------------------------------------------

    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_fleet_check:
            self._next_fleet_check = now + min(_FLEET_CHECK_S, self.config.offline_after_s / 2)
            self._check_fleet()
            self.gaps.check(self.registry.get, now, now_ms())
        if now >= self._next_ops_report:
            self._next_ops_report = now + self.config.ops_interval_s
            self._report_ops()

    def _check_fleet(self) -> None:
        """Device states from the registry; a device going silent or coming back is an
        event, and the counts go to the metrics snapshot."""
        now = now_ms()
        counts: Counter[DeviceState] = Counter()
        for record in self.registry:
            state = state_of(record, now, self.config.offline_after_s)
            counts[state] += 1
            before = self._fleet.get(record.device_id)
            self._fleet[record.device_id] = state
            if before is None or before is state:
                continue
            if state is DeviceState.SILENT:
                log.warning(
                    "%s is silent: nothing heard for %ss",
                    record.device_id,
                    self.config.offline_after_s,
                )
                self.event(
                    "device-silent",
                    record,
                    f"nothing heard for "
                    f"{self.config.offline_after_s:g} s while it says it is online",
                )
            elif before is DeviceState.SILENT and state is DeviceState.ONLINE:
                log.warning("%s is heard again", record.device_id)
                self.event("device-back", record, "heard again")
        self._publish_snapshot(counts)

    def _publish_snapshot(self, counts: Counter[DeviceState]) -> None:
        self.snapshot = Snapshot(
            counters=self.stats.as_dict(),
            gauges=self._gauges(),
            devices={state.value: counts[state] for state in DeviceState},
            broker_connected=self._connected,
            influx_problem=self._influx_problem,
            spool_full=self._states.is_failing("spool"),
        )

    def _gauges(self) -> dict[str, int]:
        return {
            "spool_points": self.spool.points,
            "spool_bytes": self.spool.bytes,
            "queue_depth": self.inbox.qsize(),
            "unacked_messages": len(self._unacked),
            "publishes_refused_too_large": self.publish.refused,
        }

    def _report_ops(self) -> None:
        counts = Counter(self._fleet.values())
        lines = self.ops.take_lines(self.registry, self.stats, self._gauges(), counts, now_ms())
        self._batch.add(self.config.influx.databases.operations, lines)

    def _set_up_storage(self) -> None:
        influx = self.config.influx
        for line in self.writer.set_up(retention.plan(influx.databases, influx.retention)):
            log.info("storage: %s", line)

    def _try_storage_set_up(self) -> None:
        """Create databases, retention and roll-ups once InfluxDB answers; until then
        (and with backoff between tries) everything goes to the spool."""
        if self._storage_ready or time.monotonic() < self._next_set_up:
            return
        try:
            self._set_up_storage()
        except WriteError as exc:
            # Even a refusal (wrong password) is retried: someone may fix it while the
            # spool keeps every reading.
            self._states.failed("storage set-up", exc.reason)
            self._influx_problem = f"storage set-up: {exc.reason}"
            self._next_set_up = time.monotonic() + self._set_up_delay
            self._set_up_delay = min(self._set_up_delay * 2, _MAX_BACKOFF_S)
            return
        self._states.ok("storage set-up")
        self._influx_problem = ""
        self._storage_ready = True

    # -- MQTT --------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = new_client(self.config.gateway_id, self.config.mqtt)
        client.manual_ack_set(True)
        client.max_inflight_messages_set(100)
        set_last_will(client, self._status_topic, AGENT)
        client.on_connect = self._on_connect
        client.on_connect_fail = lambda client, userdata: self._link_log.connect_failed()
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

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

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._link_log.connected(reason_code):
            return
        self._connected = True
        client.subscribe([(topic, QOS) for topic in self._subscriptions()])
        client.publish(self._status_topic, status_payload("online", AGENT), qos=QOS, retain=True)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self._connected:  # why matters: a packet too large, a session taken over...
            log.warning("disconnected from the broker: %s", reason_code)
        self._connected = False

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.put(Inbound(message.topic, bytes(message.payload), message.mid, message.qos))
