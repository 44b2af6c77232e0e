"""The agent: collect on schedule, store in the outbox, send live-first, and follow the
remote config and commands IT sends."""

from __future__ import annotations

import functools
import logging
import platform
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

from common import memory, systemd
from common.statelog import StateLog
from common.yamlconf import ConfigError
from edge import AGENT_NAME, AGENT_VERSION, remote
from edge.collectors import Collector, build_collectors, close_collectors
from edge.commands import CommandError, Commands
from edge.config import AgentConfig
from edge.kept import KeptState
from edge.link import Acked, Inbound, LinkEvent, MqttLink
from edge.logbuffer import LogBuffer
from edge.outbox import EVENT, ROUTINE, Outbox, OutboxError
from edge.sender import Sender, SenderSettings
from edge.update import Updater
from wire import (
    CATALOGUE,
    CommandRequest,
    CommandResponse,
    ConfigDesired,
    ConfigReported,
    Kind,
    Message,
    PayloadError,
    Reading,
    ReleaseDesired,
    ReleaseReported,
    decode,
    encode,
    now_ms,
    topics,
)
from wire.payloads import MAX_READINGS, RESEND_COMMAND, plausible_readings, resend_ranges

log = logging.getLogger(__name__)
EXPIRE_EVERY_S = 60.0


class CollectNow(NamedTuple):
    """An event-driven collector has something to send."""

    collector: str


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        collectors: Sequence[Collector],
        log_buffer: LogBuffer | None = None,
    ) -> None:
        self.config = config
        self.log_buffer = log_buffer
        self.device_id = config.device_id
        state = Path(config.state_dir)
        self.events: queue.Queue[Any] = queue.Queue()
        settings = config.outbox
        self.outbox = Outbox(state / "outbox.sqlite3", settings.limits(), settings.sync)
        self.link = MqttLink(
            self.device_id,
            config.mqtt,
            AGENT_NAME,
            self.events,
            session_expiry_s=config.session_expiry_s,
            reconnect_max_s=config.reconnect_max_s,
        )
        self.sender = Sender(
            self.outbox,
            self.link.publish,
            SenderSettings(window=settings.window, backlog_rate=settings.backlog_rate),
        )
        self.store = remote.AppliedStore(state)
        self._kept = KeptState(state)  # before a stored remote config builds collectors
        self.config_version = 0
        self.collectors = list(collectors)
        self.collector_configs = list(config.collectors)
        self._due: dict[str, float] = {}
        self._load_applied()
        self.reconnects = 0
        self.refused = 0
        self.restart_requested = False
        self._seq = self.outbox.next_sequence() - 1
        self._started = time.monotonic()
        self._states = StateLog(log)
        self._collected: set[str] = set()  # collectors that have read once since the start
        self._stop = threading.Event()
        self._commands = Commands()
        self._register_commands()
        self.updater = Updater(state, AGENT_VERSION, self._report_release)

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; ``wake()`` makes the loop look at it at once."""
        self._stop = stop
        self.link.start()
        self._reschedule()
        memory.give_back_freed()  # what starting up used and freed
        systemd.notify("READY=1")
        watchdog = systemd.watchdog_interval_s()
        timers = {"health": time.monotonic(), "expire": time.monotonic() + EXPIRE_EVERY_S}
        if watchdog:
            timers["watchdog"] = time.monotonic()
        try:
            while not stop.is_set():
                self._wait_and_handle(self._next_wake(timers))
                now = time.monotonic()
                self._collect_due(now)
                self._kept.save(self.collectors)
                self._run_timers(now, timers, watchdog)
                self.sender.pump()
        finally:
            systemd.notify("STOPPING=1")
            self._handle_pending()
            close_collectors(self.collectors)
            self.link.close()
            self.outbox.close()

    def wake(self) -> None:
        self.events.put(None)

    def _next_wake(self, timers: dict[str, float]) -> float:
        moments = [*self._due.values(), *timers.values()]
        pump = self.sender.next_pump_in()
        wake = min(moments) - time.monotonic()
        return max(0.0, min(wake, pump) if pump is not None else wake)

    def _run_timers(self, now: float, timers: dict[str, float], watchdog: float | None) -> None:
        if now >= timers["health"]:
            timers["health"] = now + self.config.health_interval_s
            self.store_readings(self.health_readings(), now_ms())
            self.updater.check()
        if self.updater.on_probation and self._healthy():
            # Confirmed at once, not at the next health tick: the installer's deadline
            # may be shorter than the health interval.
            self.updater.healthy()
            self.updater.check()
        if now >= timers["expire"]:
            timers["expire"] = now + EXPIRE_EVERY_S
            self.outbox.expire(now_ms())
        if watchdog and now >= timers["watchdog"]:
            timers["watchdog"] = now + watchdog
            systemd.notify("WATCHDOG=1")

    def _wait_and_handle(self, timeout: float) -> None:
        try:
            first = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        self._handle_pending(first)

    def _handle_pending(self, first: Any = None) -> None:
        """Handle ``first`` and whatever else is queued, acknowledging in one batch."""
        acked: list[int] = []
        event = first
        while True:
            if isinstance(event, Acked):
                acked.append(event.message_id)
                if event.refused:
                    self._refused(event)
            elif isinstance(event, LinkEvent):
                self._link_changed(event)
            elif isinstance(event, Inbound):
                self._inbound(event)
            elif isinstance(event, CollectNow) and event.collector in self._due:
                self._due[event.collector] = 0.0
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
        self.sender.acknowledged(acked)

    # -- collecting and storing --------------------------------------------------------

    def _collect_due(self, now: float) -> None:
        for collector in self.collectors:
            if self._due[collector.name] <= now:
                self._due[collector.name] = now + collector.interval_s
                self._collect(collector)

    def _collect(self, collector: Collector) -> int:
        timestamp = now_ms()
        source = f"collector {collector.name!r}"
        try:
            readings = collector.collect(timestamp)
        except Exception as exc:  # noqa: BLE001 - one bad collector must not stop the others
            self._states.failed(source, f"{type(exc).__name__}: {exc}")
            return 0
        self._states.ok(source)
        self._collected.add(collector.name)
        self.store_readings(readings, timestamp)
        return len(readings)

    def store_readings(self, readings: list[Reading], timestamp: int) -> None:
        """Commit readings to the outbox, each on its quantity's topic, with sequence
        numbers; the sequence is persisted in the same transaction."""
        readings, impossible = plausible_readings(readings)
        if impossible:  # a broken sensor: logged when it starts and when it stops
            self._states.failed("plausibility", "; ".join(impossible)[:500])
        else:
            self._states.ok("plausibility")
        by_kind: dict[Kind, list[Reading]] = defaultdict(list)
        for reading in readings:
            by_kind[CATALOGUE[reading.quantity].topic_kind].append(reading)
        messages, seq = [], self._seq
        for kind, group in by_kind.items():
            topic = topics.device_topic(self.device_id, kind)
            priority = EVENT if kind is Kind.EVENT else ROUTINE
            for start in range(0, len(group), MAX_READINGS):
                seq += 1
                chunk = group[start : start + MAX_READINGS]
                message = Message(schema=1, seq=seq, ts=timestamp, readings=chunk)
                messages.append((priority, topic, encode(message)))
        if not messages:
            return
        try:
            self.outbox.add(messages, seq, timestamp)
        except OutboxError as exc:
            self._states.failed("outbox", str(exc))
            return
        self._states.ok("outbox")
        self._seq = seq

    def health_readings(self) -> list[Reading]:
        stats = self.outbox.stats()
        age = 0.0 if stats.oldest_ms is None else max(0.0, (now_ms() - stats.oldest_ms) / 1000)
        return [
            Reading("agent.outbox_depth", stats.depth, "1"),
            Reading("agent.outbox_oldest_age", round(age, 3), "s"),
            Reading("agent.evicted", stats.evicted, "1"),
            Reading("agent.refused", self.refused, "1"),
            Reading("agent.reconnects", self.reconnects, "1"),
            Reading("agent.config_version", self.config_version, "1"),
            Reading("agent.uptime", int(time.monotonic() - self._started), "s"),
        ]

    def _healthy(self) -> bool:
        """What a new release must show before it is kept: connected to the broker, its
        collectors running, its outbox taking writes."""
        collectors_ok = bool(self.collectors) and all(
            c.name in self._collected and not self._states.is_failing(f"collector {c.name!r}")
            for c in self.collectors
        )
        return self.sender.connected and collectors_ok and not self._states.is_failing("outbox")

    # -- the link ----------------------------------------------------------------------

    def _link_changed(self, event: LinkEvent) -> None:
        broker = f"broker {self.config.mqtt.host}:{self.config.mqtt.port}"
        if not event.connected and event.reason:
            # "Not authorized", "Bad user name or password", TLS: once, with the reason.
            self._states.failed(broker, event.reason)
        if event.connected:
            self._states.ok(broker)
        if event.connected == self.sender.connected:
            return
        if event.connected:
            self.reconnects += 1
            log.info("connected to %s:%s", self.config.mqtt.host, self.config.mqtt.port)
            self.link.announce_online()
            self.sender.link_up()
            self.updater.link_up()
        else:
            self.sender.link_down()
            log.warning("connection lost (%s); readings wait in the outbox", event.reason)

    def _refused(self, event: Acked) -> None:
        self.refused += 1
        self._states.failed("broker", f"refused a message: {event.refused} (check the ACL)")

    def _inbound(self, message: Inbound) -> None:
        if message.topic == topics.config_desired(self.device_id):
            self._desired(message.payload)
        elif message.topic == topics.command_request(self.device_id):
            self._command(message)
        elif message.topic == topics.release_desired(self.device_id):
            self._release_desired(message.payload)
        else:
            log.warning("ignored a message on %s: not this device's topic", message.topic)

    # -- remote config -----------------------------------------------------------------

    def _load_applied(self) -> None:
        try:
            stored = self.store.load()
            if stored is not None:
                self._switch_to(stored)
        except (ConfigError, ValueError, KeyError) as exc:
            log.error("ignoring the stored remote config (%s); running the config file", exc)

    def _switch_to(self, desired: remote.Desired) -> None:
        """Run the collectors of ``desired``. The old ones are closed first (they hold
        pins and radios the new ones claim); if the new ones cannot start, the old
        config is started again and ConfigError says why."""
        document = remote.check(desired)
        previous = remote.Desired(self.config_version, {"collectors": self.collector_configs})
        close_collectors(self.collectors)
        try:
            self.collectors = build_collectors(document, self.device_id)
        except Exception as exc:  # noqa: BLE001 - hardware can refuse in many ways
            self.collectors = self._rebuild(previous)
            self._reschedule()
            raise ConfigError(document.source, f"{type(exc).__name__}: {exc}") from None
        self.collector_configs = desired.config["collectors"]
        self.config_version = desired.version
        self._reschedule()

    def _rebuild(self, previous: remote.Desired) -> list[Collector]:
        try:
            return build_collectors(remote.check(previous), self.device_id)
        except Exception as exc:  # noqa: BLE001 - keep the agent up: health still flows
            log.error("the previous collectors did not start again either: %s", exc)
            return []

    def _reschedule(self) -> None:
        self._kept.restore(self.collectors)
        now = time.monotonic()
        self._due = {c.name: self._due.get(c.name, now) for c in self.collectors}
        for collector in self.collectors:  # event-driven ones collect as soon as they hear
            collector.set_waker(functools.partial(self.events.put, CollectNow(collector.name)))

    def _desired(self, payload: bytes) -> None:
        topic = topics.config_desired(self.device_id)
        try:
            desired = decode(payload, ConfigDesired, topic=topic)
        except PayloadError as exc:
            self._report("rejected", 0, str(exc))
            return
        if desired.version == self.config_version:
            self._report("applied", desired.version)
            return
        applied = remote.Desired(desired.version, desired.config)
        try:
            self._switch_to(applied)
        except ConfigError as exc:
            log.warning("rejected desired config version %d: %s", desired.version, exc)
            self._report("rejected", desired.version, str(exc))
            return
        self.store.save(applied)
        log.info("applied desired config version %d", desired.version)
        self._report("applied", desired.version)

    def _report(self, state: Literal["applied", "rejected"], desired: int, error: str = "") -> None:
        report = ConfigReported(
            schema=1,
            version=self.config_version,
            state=state,
            ts=now_ms(),
            error=error,
            desired=desired,
        )
        self.link.publish(topics.config_reported(self.device_id), encode(report), retain=True)

    # -- releases ----------------------------------------------------------------------

    def _release_desired(self, payload: bytes) -> None:
        topic = topics.release_desired(self.device_id)
        if not payload:  # withdrawn (an aborted rollout): keep what runs
            self.updater.withdrawn()
            return
        try:
            desired = decode(payload, ReleaseDesired, topic=topic)
        except PayloadError as exc:
            self._states.failed(topic, str(exc))
            return
        self._states.ok(topic)
        self.updater.desired_changed(desired)

    def _report_release(self, report: ReleaseReported) -> None:
        topic = topics.release_reported(self.device_id)
        self.link.publish(topic, encode(report), retain=True)

    # -- commands ----------------------------------------------------------------------

    def _register_commands(self) -> None:
        self._commands.register("ping", self._ping)
        self._commands.register("collect-now", self._collect_now)
        self._commands.register("get-config", self._get_config)
        self._commands.register("restart-agent", self._restart)
        self._commands.register(RESEND_COMMAND, self._resend)
        self._commands.register("logs", self._logs)
        self._commands.register("diag", self._diag)
        self._commands.register("forget-kept", self._forget_kept)

    def _command(self, message: Inbound) -> None:
        try:
            request = decode(message.payload, CommandRequest, topic=message.topic)
            response = CommandResponse(
                schema=1, ok=True, ts=now_ms(), result=self._commands.run(request)
            )
        except (PayloadError, CommandError) as exc:
            response = CommandResponse(schema=1, ok=False, ts=now_ms(), error=str(exc))
        # Always our own response topic: the broker would refuse any other for us.
        self.link.respond(
            topics.command_response(self.device_id), encode(response), message.correlation
        )

    def _ping(self, request: CommandRequest) -> dict[str, Any]:
        stats = self.outbox.stats()
        return {
            "agent": AGENT_NAME,
            "uptime_s": int(time.monotonic() - self._started),
            "config_version": self.config_version,
            "outbox_depth": stats.depth,
            "evicted": stats.evicted,
            "reconnects": self.reconnects,
        }

    def _collect_now(self, request: CommandRequest) -> dict[str, Any]:
        wanted = request.args.get("collector")
        chosen = [c for c in self.collectors if wanted in (None, c.name)]
        if not chosen:
            raise CommandError(f"no collector named {wanted!r}")
        return {"readings": sum(self._collect(collector) for collector in chosen)}

    def _forget_kept(self, request: CommandRequest) -> dict[str, Any]:
        """What a collector keeps across restarts, forgotten (a BLE sensor's counters
        after its battery was changed: they start again from zero)."""
        wanted = request.args.get("collector")
        chosen = [c for c in self.collectors if wanted in (None, c.name)]
        if not chosen:
            raise CommandError(f"no collector named {wanted!r}")
        for collector in chosen:
            collector.restore({})
        self._kept.save(self.collectors)
        return {"forgotten": [c.name for c in chosen]}

    def _get_config(self, request: CommandRequest) -> dict[str, Any]:
        return {"version": self.config_version, "collectors": self.collector_configs}

    def _resend(self, request: CommandRequest) -> dict[str, Any]:
        """The gateway misses these sequence numbers (a broker lost them after its
        PUBACK): send what is still kept again."""
        try:
            ranges = resend_ranges(request)
            requeued, gone = self.outbox.requeue(ranges)
        except (PayloadError, OutboxError) as exc:
            raise CommandError(str(exc)) from None
        if requeued or gone:
            log.warning("the gateway missed %d messages: %d sent again, %d no longer kept",
                        requeued + gone, requeued, gone)  # fmt: skip
        return {"requeued": requeued, "no_longer_kept": gone}

    def _logs(self, request: CommandRequest) -> dict[str, Any]:
        """The agent's recent log (personal data taken out): ``since_min`` minutes back
        (default 60), at most ``max_kb`` KiB (default and most 64)."""
        if self.log_buffer is None:
            raise CommandError("this agent keeps no log in memory")
        try:
            since_min = float(request.args.get("since_min", 60))
            max_kb = min(64.0, float(request.args.get("max_kb", 64)))
        except (TypeError, ValueError):
            raise CommandError("since_min and max_kb: expected numbers") from None
        since = now_ms() - int(since_min * 60_000)
        return {"lines": self.log_buffer.recent(since, int(max_kb * 1024))}

    def _diag(self, request: CommandRequest) -> dict[str, Any]:
        """Everything IT asks first when a device misbehaves, in one answer."""
        stats = self.outbox.stats()
        desired = self.updater.desired
        return {
            "agent": AGENT_NAME,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "uptime_s": int(time.monotonic() - self._started),
            "broker": {"host": self.config.mqtt.host, "port": self.config.mqtt.port,
                       "connected": self.sender.connected, "reconnects": self.reconnects},
            "config_version": self.config_version,
            "collectors": [{"name": c.name, "interval_s": c.interval_s} for c in self.collectors],
            "failing": self._states.failing(),
            "outbox": {"depth": stats.depth, "oldest_ms": stats.oldest_ms,
                       "evicted": stats.evicted, "refused": self.refused},
            "release": {"running": AGENT_VERSION,
                        "desired": desired.version if desired else ""},
            "log": self.log_buffer.recent(0, 16 * 1024) if self.log_buffer else [],
        }  # fmt: skip

    def _restart(self, request: CommandRequest) -> dict[str, Any]:
        self.restart_requested = True
        self._stop.set()
        return {"restarting": True}
