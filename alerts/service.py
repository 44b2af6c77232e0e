"""The alerts service: the MQTT stream in, rules evaluated, notifications out.

paho's thread only queues what arrives; one loop owns the core (engine, alerts, outbox)
and handles readings, status, the gateway's events, acknowledgements and the clock. It
never reads InfluxDB, so a database outage never silences an alert.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from alerts.ackpage import FamilyView, PageAlert
from alerts.ackserver import AckRequest, AckServer, FamilyRequest
from alerts.clock import Clock, SystemClock
from alerts.config import AlertsConfig
from alerts.core import AlertsCore
from alerts.dispatch import Dispatcher
from alerts.family import family_view
from alerts.health import Health
from alerts.line import LineChannel
from alerts.messages import describe
from alerts.notifier import decode_detail
from alerts.phone import PhoneChannel
from alerts.routing import Recipient
from alerts.store import AlertRow, Notification, Store
from common.city.inventory import Inventory
from common.city.residents import Directory
from common.labels import Lang
from common.serviceclient import Inbound, ServiceClient, ServiceStatus
from common.systemd import Watchdog
from wire import AlertState, Kind, PayloadError, WireError, encode, topics
from wire.payloads import dead_letter

log = logging.getLogger(__name__)
AGENT = "civic-iot-alerts"
_SAVE_EVERY_S = 1.0


class AlertsService:
    def __init__(
        self,
        config: AlertsConfig,
        inventory: Inventory,
        directory: Directory,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._status_topic = topics.service_status(config.alerts_id)
        self._ack_topic = topics.service_ack(config.alerts_id)
        self._alert_topic = topics.service_alert(config.alerts_id)
        self._dead_letter_topic = topics.dead_letter(config.alerts_id)
        self.inbox: queue.Queue[Inbound | AckRequest | FamilyRequest] = queue.Queue(maxsize=50_000)
        self.mqtt = ServiceClient(
            config.alerts_id, config.mqtt, log, deliver=self.inbox.put,
            subscriptions=self._subscriptions, manual_ack=True,
            status=ServiceStatus(self._status_topic, AGENT),
        )  # fmt: skip
        self.publish = self.mqtt.publish
        self.connected = self.mqtt.connected
        self.core = AlertsCore(config, inventory, directory, self.clock,
                               self._publish_state, self._publish_dead_letter)  # fmt: skip
        state_dir = Path(config.state_dir)
        phone = PhoneChannel(config.phone) if config.phone else None
        line = LineChannel(config.line) if config.line else None
        self.dispatcher = Dispatcher(state_dir / "alerts.sqlite3", config.delivery_attempts,
                                     self._delivery_failed, self.clock, phone=phone,
                                     line=line)  # fmt: skip
        self.health = Health(self.core, self.connected, self.inbox)
        host, _, port = config.http_listen.rpartition(":")
        self.http = AckServer(host or "127.0.0.1", int(port), self.core.signer, self.inbox.put,
                              health=self.health, clock=self.clock)  # fmt: skip
        self._saved = 0.0

    # -- lifecycle -----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.mqtt.start(session_expiry_s=86_400)
        self.http.start()
        self.dispatcher.poke(self.core.store.channels_pending())
        next_tick = 0.0
        watchdog = Watchdog()
        watchdog.ready()
        try:
            while not stop.is_set():
                watchdog.pet(time.monotonic())
                if time.monotonic() >= next_tick:
                    self._tick()
                    next_tick = time.monotonic() + self.config.tick_s
                try:
                    wait = max(0.0, next_tick - time.monotonic())
                    item = self.inbox.get(timeout=min(wait, watchdog.interval_s or wait))
                except queue.Empty:
                    continue
                self._handle(item)
        finally:
            watchdog.stopping()
            self._close()

    def _close(self) -> None:
        self.mqtt.close()
        self.http.close()
        self.dispatcher.stop()
        self.core.close()

    # -- the loop ------------------------------------------------------------------------

    def _handle(self, item: Inbound | AckRequest | FamilyRequest) -> None:
        if isinstance(item, AckRequest):
            self._ack(item)
            return
        if isinstance(item, FamilyRequest):
            try:
                item.page = self._family(item.contact_id, item.lang)
            finally:
                item.done.set()
            return
        if self.core.message(item.topic, item.payload):
            self.dispatcher.poke(self.core.store.channels_pending())
        if item.qos > 0:
            # Only now: what the message changed is committed, so a crash before this
            # line has the broker deliver it again (a press is never lost in between).
            self.mqtt.ack(item.mid, item.qos)
        if time.monotonic() - self._saved >= _SAVE_EVERY_S:
            self.core.save()
            self._saved = time.monotonic()

    def _tick(self) -> None:
        self.core.tick()
        self.health.refresh()
        self.dispatcher.poke(self.core.store.channels_pending())

    def _ack(self, request: AckRequest) -> None:
        try:
            if request.look_only:
                row = self.core.store.alert(request.alert_id)
            elif request.close:
                row = self.core.close_alert(request.alert_id, request.who, request.close)
            else:
                row = self.core.acknowledge(request.alert_id, request.who)
            request.found = row is not None
            request.open = row is not None and row.state == "firing"
            request.closable = (
                row is not None and row.state == "acknowledged" and (row.acked_by == request.who)
            )
            if row is not None:
                # The one who just tapped sees that it is theirs, even where taking it
                # closes it at once (a call button has nothing left to resolve).
                just_taken = (not request.look_only and not request.close
                              and row.acked_by == request.who)  # fmt: skip
                request.page = self._page_alert(row, request.lang, taken=just_taken)
        finally:
            request.done.set()
        self.dispatcher.poke(self.core.store.channels_pending())

    def _family(self, contact_id: str, lang: Lang) -> FamilyView | None:
        core = self.core
        return family_view(contact_id, lang, now_ms=self.clock.now_ms(), router=core.router,
                           store=core.store, state=core.engine.state, rules=core.rules)  # fmt: skip

    def _page_alert(self, row: AlertRow, lang: Lang, *, taken: bool) -> PageAlert:
        rule = self.core.rules.get(row.rule_id)
        title = getattr(rule.title, lang) if rule else row.rule_id
        state = "acknowledged" if taken else row.state
        if state == "resolved":  # over: nothing personal to show any more
            return PageAlert(title, "", row.fired_at, "UTC", state=state,
                             closed_reason=row.closed_reason)  # fmt: skip
        router = self.core.router
        timezone = router.timezone(row.site)
        chain = router.chain(rule, row.site) if rule else []
        return PageAlert(
            title=title,
            place=router.place(row.site, lang),
            fired_at=row.fired_at,
            timezone=timezone,
            lines=describe(decode_detail(row.detail), lang, timezone),
            advice=getattr(rule.advice, lang) if rule else "",
            state=state,
            acked_by=row.acked_by,
            acked_at=row.acked_at,
            stopped_roles=[step.role for step in chain[row.step + 1 :]],
        )

    def _delivery_failed(self, store: Store, note: Notification) -> None:
        """Runs on a delivery thread with that thread's store: tell IT (not by the
        channel that failed)."""
        # Pseudonymous: the contact's ID, the rule and the site, never names or addresses.
        text = (
            f"Alert notification to {note.contact or 'a contact'} via {note.channel} failed "
            f"after {note.attempts + 1} attempts ({note.rule_id} at {note.site})."
        )
        now = self.clock.now_ms()
        for url in self.config.it_channels:
            it = Recipient("IT", self.config.it_language, url)
            if it.channel == note.channel and note.recipient == "IT":
                continue
            store.enqueue(Notification(
                0, f"failed-{note.id}-{url}", note.alert_id, "IT", it.language, it.channel, url,
                "[civic-iot] notification delivery failed", text, "pending", 0, now, "", None,
                "firing", "warning", "it", note.rule_id, note.site,
            ))  # fmt: skip
        self.dispatcher.poke({Recipient("IT", "en", u).channel for u in self.config.it_channels})

    # -- MQTT ----------------------------------------------------------------------------

    def _publish_state(self, state: AlertState) -> None:
        self.publish(self._alert_topic, encode(state))

    def _publish_dead_letter(self, topic: str, payload: bytes, error: WireError) -> None:
        where = error.where if isinstance(error, PayloadError) else "$"
        reason = error.reason if isinstance(error, PayloadError) else str(error)
        letter = dead_letter(topic, payload, reason, where, self.clock.now_ms())
        self.publish(self._dead_letter_topic, encode(letter))

    def _subscriptions(self) -> list[str]:
        kinds = (Kind.TELEMETRY, Kind.EVENT, Kind.HEALTH, Kind.STATUS)
        filters = [topics.all_devices(kind) for kind in kinds]
        return [*filters, topics.all_service_events(), self._ack_topic]
