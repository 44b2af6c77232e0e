"""The alerts service without its network: rules, engine, store, notifier and the
alert board on one injected clock. ``AlertsService`` feeds it from MQTT and HTTP and
delivers its outbox; ``alerts replay`` feeds it a recorded stream on virtual time.

Nothing one message or action holds can stop it: every input is handled inside a guard
that counts and logs (once per kind and hour) what it refused or failed on, and goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from alerts.board import AlertBoard
from alerts.clock import Clock
from alerts.config import AlertsConfig
from alerts.daily import enqueue_daily
from alerts.engine import Engine, SiteInfo, Watch
from alerts.engine_types import Observation
from alerts.notifier import Notifier
from alerts.routing import Router, Signer
from alerts.rules import DEFAULT_RULES, Event, Rule, load_rules
from alerts.state import Transition
from alerts.store import CLOSE_REASONS, AlertRow, Store
from common.city.inventory import Inventory
from common.city.residents import Directory
from wire import (
    AlertAck,
    AlertState,
    Kind,
    PayloadError,
    ServiceEvent,
    Status,
    WireError,
    decode,
    topics,
)
from wire.payloads import MessageView, clock_problem, decode_plausible, guard_sensor_names

log = logging.getLogger(__name__)
_LOG_EVERY_MS = 3_600_000


def sites_of(inventory: Inventory, directory: Directory | None = None) -> dict[str, SiteInfo]:
    watches: dict[str, Watch] = {}
    for resident in directory.residents.values() if directory else ():
        own = resident.watch
        watches[resident.site] = Watch(own.inactivity_hours, own.night, own.wake_up_by)
    return {
        site.id: SiteInfo(
            site.id,
            site.kind,
            site.timezone,
            tuple(d.id for d in site.devices),
            watches.get(site.id, Watch()),
        )
        for site in inventory.sites.values()
    }


class AlertsCore:
    def __init__(  # noqa: PLR0917 - the service's collaborators, each injected
        self,
        config: AlertsConfig,
        inventory: Inventory,
        directory: Directory,
        clock: Clock,
        publish: Callable[[AlertState], None] | None = None,
        dead_letter: Callable[[str, bytes, WireError], None] | None = None,
        *,
        durable: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock
        self.rules: dict[str, Rule] = load_rules(
            [DEFAULT_RULES, *(Path(d) for d in config.rule_dirs)]
        )
        state_dir = Path(config.state_dir)
        self.store = Store(state_dir / "alerts.sqlite3", durable=durable)
        state = self.store.load_engine()
        now = clock.now_ms()
        repaired = state.repair(now)
        if repaired:
            log.warning("engine state had times in the future; forgot %s", ", ".join(repaired))
        self.engine = Engine(self.rules.values(), sites_of(inventory, directory), state,
                             inventory.city.timezone)  # fmt: skip
        self.engine.start(now)
        self.router = Router(config, inventory, directory)
        self.signer = Signer(Path(config.secret_file), config.base_url, config.link_valid_days)
        self.notifier = Notifier(self.store, config, self.router, self.rules, self.signer)
        self.board = AlertBoard(self.rules, publish or (lambda _state: None))
        self._dead_letter = dead_letter
        self.counts: Counter[str] = Counter()
        self.last_message_ms = 0
        self._ack_topic = topics.service_ack(config.alerts_id)
        self._logged: dict[str, int] = {}
        self._sensors: dict[str, frozenset[str]] = {}
        self._gateways = {s.id for s in inventory.city.services if s.role == "gateway"}
        self._close_removed_rules(now)

    # -- inputs --------------------------------------------------------------------------

    def message(self, topic: str, payload: bytes) -> bool:
        """One MQTT message as the broker delivered it; True if it changed an alert (so
        there may be something to deliver)."""
        now = self.clock.now_ms()
        self.counts["messages"] += 1
        self.last_message_ms = now
        try:
            transitions = self._transitions(topic, payload, now)
            self._apply(transitions, now)
            return bool(transitions) or topic == self._ack_topic
        except WireError as exc:
            self._refused(topic, str(exc), now)
            if self._dead_letter is not None:
                self._dead_letter(topic, payload, exc)
        except Exception as exc:  # noqa: BLE001 - one message must never stop the service
            self._failed(f"message on {topic}", exc, now)
        return False

    def acknowledge(self, alert_id: int, who: str) -> AlertRow | None:
        """Someone takes care of alert ``alert_id``; the row, or None if there is none."""
        now = self.clock.now_ms()
        try:
            row = self.store.alert(alert_id)
            if row is not None:
                with self.store.transaction():
                    self.notifier.acknowledge(row, who, now)
                self._close_acknowledged_events()
                self.board.update(self.store, now)
                row = self.store.alert(alert_id)
        except Exception as exc:  # noqa: BLE001 - one action must never stop the service
            self._failed(f"acknowledgement of alert {alert_id}", exc, now)
            return None
        return row

    def close_alert(self, alert_id: int, who: str, reason: str) -> AlertRow | None:
        """The one who took alert ``alert_id`` says it is over ("resolved") or was a
        false alarm ("false-alarm"). Whoever was told hears it is over; the engine
        forgets it, so a condition that persists fires again after its time."""
        now = self.clock.now_ms()
        try:
            row = self.store.alert(alert_id)
            if row is None or row.state != "acknowledged" or reason not in CLOSE_REASONS:
                return row
            with self.store.transaction():
                self.notifier.close_by_hand(row, who, reason, now)
            self.engine.closed_by_hand(row.key, row.site, now)
            self.store.save_engine(self.engine.state)
            self.board.update(self.store, now)
            row = self.store.alert(alert_id)
        except Exception as exc:  # noqa: BLE001 - one action must never stop the service
            self._failed(f"closing alert {alert_id}", exc, now)
            return None
        return row

    def acknowledge_open(self, rule_id: str, site: str, who: str) -> int:
        """Acknowledge every open alert of a rule at a site; how many there were."""
        rows = [r for r in self.store.alerts() if r.rule_id == rule_id and r.site == site]
        for row in rows:
            self.acknowledge(row.id, who)
        return len(rows)

    def set_away(self, site: str, until_ms: int | None, note: str = "") -> None:
        now = self.clock.now_ms()
        self.store.set_away(site, until_ms, note)
        self.engine.set_away(site, until_ms, now)
        self.store.save_engine(self.engine.state)

    def tick(self) -> None:
        """The clock moved on: timers, escalations, repeats, summaries, away mode."""
        now = self.clock.now_ms()
        try:
            self._sync_away(now)
            self._apply(self.engine.tick(now), now)
            self._close_acknowledged_events()
            with self.store.transaction():
                self.notifier.tick(now)
                enqueue_daily(now, self.router, self.store, self.engine.state, self.rules,
                              signer=self.signer)  # fmt: skip
            self.board.update(self.store, now)
        except Exception as exc:  # noqa: BLE001 - the loop must go on
            self._failed("tick", exc, now)

    def save(self) -> None:
        self.store.save_engine(self.engine.state)

    def close(self) -> None:
        self.save()
        self.store.close()

    # -- figures -------------------------------------------------------------------------

    def figures(self) -> dict[str, float]:
        """For /metrics and /healthz."""
        now = self.clock.now_ms()
        age = (now - self.last_message_ms) / 1000 if self.last_message_ms else -1.0
        return {
            "messages": self.counts["messages"],
            "refused": self.counts["refused"],
            "errors": self.counts["errors"],
            "open_alerts": len(self.store.alerts()),
            "pending_notifications": self.store.pending_count(),
            "failed_notifications": self.store.failed_count(),
            "last_message_age_s": age,
        }

    # -- plumbing ------------------------------------------------------------------------

    def _transitions(  # noqa: PLR0911 - one return per kind of topic
        self, topic: str, payload: bytes, now: int
    ) -> list[Transition]:
        if topic == self._ack_topic:
            ack = decode(payload, AlertAck, topic=topic)
            self.acknowledge(ack.alert_id, ack.by)
            return []
        service = topics.parse_service(topic)
        if service is not None:
            if service.kind is not topics.ServiceKind.EVENT:
                return []
            if service.service_id not in self._gateways:
                # Any account may publish under its own _svc/ subtree; only the city's
                # gateways speak for devices (a forged "device-silent" pauses a home).
                raise PayloadError(
                    f"{service.service_id!r} is not a gateway in firmware-config "
                    f"({', '.join(sorted(self._gateways)) or 'none'}); event ignored",
                    topic=topic,
                )
            return self._service_event(decode(payload, ServiceEvent, topic=topic), now)
        device = topics.parse(topic)
        if device.kind is Kind.STATUS:
            if not payload:
                return []
            status = decode(payload, Status, topic=topic)
            # When the news arrived, not the payload's time: a last will carries the time
            # the agent connected, days before it went away.
            return self.engine.device_online(device.device_id, status.state == "online", now)
        if device.kind not in topics.READING_KINDS:
            return []
        message, implausible = decode_plausible(payload, topic=topic)
        for problem in implausible:  # that reading is refused; the others count
            self._refused(topic, str(problem), now)
            if self._dead_letter is not None:
                self._dead_letter(topic, payload, problem)
        clock_problem(message, now, topic=topic)
        self._guard_sensors(device.device_id, message, topic)
        readings = [
            Observation(r.quantity, r.value, r.sensor, r.ts if r.ts is not None else message.ts)
            for r in message.readings
        ]
        return self.engine.observe(device.device_id, readings, now)

    def _guard_sensors(self, device: str, message: MessageView, topic: str) -> None:
        """The engine's state (saved with every change) must not grow with what a device
        invents."""
        known = self._sensors.get(device, frozenset())
        self._sensors[device] = guard_sensor_names(known, device, message, topic)

    def _service_event(self, event: ServiceEvent, now: int) -> list[Transition]:
        """The gateway says a device went silent or came back, or reports trouble."""
        if event.kind in ("device-silent", "device-back"):
            if not event.device:
                return []
            return self.engine.device_online(event.device, event.kind == "device-back", now)
        return self.engine.service_event(event.kind, event.device, event.site, event.detail, now)

    def _apply(self, transitions: list[Transition], now: int) -> None:
        if not transitions:
            return
        with self.store.transaction():
            for transition in transitions:
                self.notifier.handle(transition, now)
            self.store.save_engine(self.engine.state)
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

    def _close_removed_rules(self, now: int) -> None:
        """At start: the rules are loaded once, so only a restart can remove one."""
        removed = [row for row in self.store.alerts() if row.rule_id not in self.rules]
        if not removed:
            return
        with self.store.transaction():
            for row in removed:
                self.notifier.close_removed(row, now)
                self.engine.forget(row.key)

    def _refused(self, topic: str, reason: str, now: int) -> None:
        self.counts["refused"] += 1
        self._log_once(
            f"refused:{reason.split(':', maxsplit=1)[0]}", now, "refused %s: %s", topic, reason
        )

    def _failed(self, what: str, exc: Exception, now: int) -> None:
        self.counts["errors"] += 1
        kind = f"error:{type(exc).__name__}:{what.split(' on ', maxsplit=1)[0]}"
        self._log_once(kind, now, "failed to handle %s: %s: %s", what, type(exc).__name__, exc)
        log.debug("failure detail", exc_info=exc)

    def _log_once(self, kind: str, now: int, text: str, *args: object) -> None:
        """WARNING once per kind and hour; the counters say how often."""
        if now - self._logged.get(kind, -_LOG_EVERY_MS) >= _LOG_EVERY_MS:
            self._logged[kind] = now
            log.warning(text, *args)
