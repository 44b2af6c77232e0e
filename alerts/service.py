"""The alerts service: the MQTT stream in, rules evaluated, notifications out.

paho's thread only queues what arrives; one loop owns the engine, the alerts and the
outbox, and handles readings, status, the gateway's events, acknowledgements and the
clock. It never reads InfluxDB, so a database outage never silences an alert.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from alerts.ackserver import AckRequest, AckServer
from alerts.board import AlertBoard
from alerts.config import AlertsConfig
from alerts.dispatch import Dispatcher
from alerts.engine import Engine, SiteInfo
from alerts.engine_types import Observation
from alerts.notifier import Notifier
from alerts.routing import Recipient, Router, Signer
from alerts.rules import DEFAULT_RULES, Event, Rule, load_rules
from alerts.state import Transition
from alerts.store import Notification, Store
from civic_iot.mqttlink import new_client, say_offline, set_last_will, status_payload
from provisioning.inventory import Inventory
from provisioning.residents import Directory
from wire import (
    AlertAck,
    AlertState,
    Kind,
    ServiceEvent,
    Status,
    WireError,
    decode,
    decode_message,
    encode,
    now_ms,
    topics,
)

log = logging.getLogger(__name__)
AGENT = "civic-iot-alerts"
_SAVE_EVERY_S = 1.0


class Inbound(NamedTuple):
    topic: str
    payload: bytes


def sites_of(inventory: Inventory) -> dict[str, SiteInfo]:
    return {
        site.id: SiteInfo(site.id, site.kind, site.timezone, tuple(d.id for d in site.devices))
        for site in inventory.sites.values()
    }


class AlertsService:
    def __init__(self, config: AlertsConfig, inventory: Inventory, directory: Directory) -> None:
        self.config = config
        self.rules: dict[str, Rule] = load_rules(
            [DEFAULT_RULES, *(Path(d) for d in config.rule_dirs)]
        )
        state_dir = Path(config.state_dir)
        self.store = Store(state_dir / "alerts.sqlite3")
        self.engine = Engine(self.rules.values(), sites_of(inventory), self.store.load_engine())
        self.router = Router(config, inventory, directory)
        self.signer = Signer(Path(config.secret_file), config.base_url)
        self.notifier = Notifier(self.store, config, self.router, self.rules, self.signer)
        self.dispatcher = Dispatcher(state_dir / "alerts.sqlite3", config.delivery_attempts,
                                     self._delivery_failed)  # fmt: skip
        self.inbox: queue.Queue[Inbound | AckRequest] = queue.Queue(maxsize=50_000)
        host, _, port = config.http_listen.rpartition(":")
        self.http = AckServer(host or "127.0.0.1", int(port), self.signer, self.inbox.put)
        self._status_topic = topics.service_status(config.alerts_id)
        self._ack_topic = topics.service_ack(config.alerts_id)
        self._alert_topic = topics.service_alert(config.alerts_id)
        self.board = AlertBoard(self.rules, self._publish_state)
        self.client = self._make_client()
        self._saved = 0.0

    # -- lifecycle -----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 86_400
        self.client.connect_async(
            self.config.mqtt.host, self.config.mqtt.port, self.config.mqtt.keepalive_s,
            clean_start=False, properties=properties,
        )  # fmt: skip
        self.client.loop_start()
        self.http.start()
        self.dispatcher.poke(self.store.channels_pending())
        next_tick = 0.0
        try:
            while not stop.is_set():
                if time.monotonic() >= next_tick:
                    self._tick()
                    next_tick = time.monotonic() + self.config.tick_s
                try:
                    item = self.inbox.get(timeout=max(0.0, next_tick - time.monotonic()))
                except queue.Empty:
                    continue
                self._handle(item)
        finally:
            self._close()

    def _close(self) -> None:
        self.store.save_engine(self.engine.state)
        say_offline(self.client, self._status_topic, AGENT)
        self.client.disconnect()
        self.client.loop_stop()
        self.http.close()
        self.dispatcher.stop()
        self.store.close()

    # -- the loop ------------------------------------------------------------------------

    def _handle(self, item: Inbound | AckRequest) -> None:
        if isinstance(item, AckRequest):
            self._ack(item)
            return
        now = now_ms()
        try:
            transitions = self._transitions(item, now)
        except WireError as exc:
            log.debug("ignored %s: %s", item.topic, exc)
            return
        self._apply(transitions, now)

    def _transitions(self, item: Inbound, now: int) -> list[Transition]:
        if item.topic == self._ack_topic:
            ack = decode(item.payload, AlertAck, topic=item.topic)
            self._ack(AckRequest(ack.alert_id, ack.by, look_only=False))
            return []
        service = topics.parse_service(item.topic)
        if service is not None:
            return self._service_event(item) if service.kind is topics.ServiceKind.EVENT else []
        device = topics.parse(item.topic)
        if device.kind is Kind.STATUS:
            if not item.payload:
                return []
            status = decode(item.payload, Status, topic=item.topic)
            return self.engine.device_online(device.device_id, status.state == "online", status.ts)
        message = decode_message(item.payload, topic=item.topic)
        readings = [
            Observation(r.quantity, r.value, r.sensor, r.ts if r.ts is not None else message.ts)
            for r in message.readings
        ]
        return self.engine.observe(device.device_id, readings, now)

    def _service_event(self, item: Inbound) -> list[Transition]:
        """A gateway says a device went silent or came back."""
        event = decode(item.payload, ServiceEvent, topic=item.topic)
        if event.kind in ("device-silent", "device-back") and event.device:
            return self.engine.device_online(event.device, event.kind == "device-back", event.ts)
        return []

    def _apply(self, transitions: list[Transition], now: int) -> None:
        if transitions:
            with self.store.transaction():
                for transition in transitions:
                    self.notifier.handle(transition, now)
                self.store.save_engine(self.engine.state)
            self._saved = time.monotonic()
            self.dispatcher.poke(self.store.channels_pending())
            self.board.update(self.store, now)
        elif time.monotonic() - self._saved >= _SAVE_EVERY_S:
            self.store.save_engine(self.engine.state)
            self._saved = time.monotonic()

    def _tick(self) -> None:
        now = now_ms()
        self._sync_away(now)
        self._apply(self.engine.tick(now), now)
        self._close_acknowledged_events()
        with self.store.transaction():
            self.notifier.tick(now)
        self.dispatcher.poke(self.store.channels_pending())
        self.board.update(self.store, now)

    def _sync_away(self, now: int) -> None:
        """Away mode is set with `civic-iot alerts away` (in the store)."""
        away = self.store.away(now)
        for site in set(self.engine.state.away) | set(away):
            self.engine.set_away(site, away.get(site), now)

    def _close_acknowledged_events(self) -> None:
        """A panic alert closed by acknowledgement lets the next press fire again."""
        open_keys = {row.key for row in self.store.alerts()}
        for key in list(self.engine.state.firing):
            rule = self.rules.get(key.split("/")[0])
            if isinstance(rule, Event) and key not in open_keys:
                self.engine.acknowledged_event(key)

    def _ack(self, request: AckRequest) -> None:
        row = self.store.alert(request.alert_id)
        request.found = row is not None
        if row is None:
            request.answer = "<p>No such alert. / 該当する通知がありません。</p>"
        else:
            if not request.look_only:
                with self.store.transaction():
                    self.notifier.acknowledge(row, request.who, now_ms())
                self._close_acknowledged_events()
                self.board.update(self.store, now_ms())
            request.answer = self._describe(row.id)
        request.done.set()

    def _describe(self, alert_id: int) -> str:
        row = self.store.alert(alert_id)
        assert row is not None
        rule = self.rules[row.rule_id]
        place = html.escape(self.router.place(row.site, "ja"))
        who = html.escape(row.acked_by)
        state = {
            "firing": "対応待ち / waiting for someone",
            "acknowledged": "対応中 / being taken care of",
            "resolved": "解消 / resolved",
        }[row.state]
        if who:
            state += f"<br>{who} さんが対応 / taken by {who}"
        return (
            f"<h1>{html.escape(rule.title.ja)}</h1><p>{html.escape(rule.title.en)}</p>"
            f"<p>{place}</p><p><b>{state}</b></p>"
            f"<p>{html.escape(rule.advice.ja)}<br>{html.escape(rule.advice.en)}</p>"
        )

    def _delivery_failed(self, store: Store, note: Notification) -> None:
        """Runs on a delivery thread with that thread's store: tell IT (not by the
        channel that failed)."""
        text = (
            f"Alert notification to {note.recipient} via {note.channel} failed after "
            f"{note.attempts + 1} attempts: {note.last_error}\n\n{note.subject}"
        )
        for url in self.config.it_channels:
            it = Recipient("IT", self.config.it_language, url)
            if it.channel == note.channel and note.recipient == "IT":
                continue
            store.enqueue(Notification(
                0, f"failed-{note.id}-{url}", note.alert_id, "IT", it.language, it.channel, url,
                "[civic-iot] notification delivery failed", text, "pending", 0, now_ms(), "", None,
            ))  # fmt: skip
        self.dispatcher.poke({Recipient("IT", "en", u).channel for u in self.config.it_channels})

    # -- MQTT ----------------------------------------------------------------------------

    def _publish_state(self, state: AlertState) -> None:
        self.client.publish(self._alert_topic, encode(state), qos=1)

    def _make_client(self) -> mqtt.Client:
        client = new_client(self.config.alerts_id, self.config.mqtt)
        set_last_will(client, self._status_topic, AGENT)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        return client

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            return
        kinds = (Kind.TELEMETRY, Kind.EVENT, Kind.HEALTH, Kind.STATUS)
        filters = [topics.all_devices(kind) for kind in kinds]
        filters += [topics.all_service_events(), self._ack_topic]
        client.subscribe([(f, 1) for f in filters])
        client.publish(self._status_topic, status_payload("online", AGENT), qos=1, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.put(Inbound(message.topic, bytes(message.payload)))
