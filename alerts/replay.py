"""``civic-iot alerts replay``: the whole alerts service on virtual time.

A recorded stream (one JSON object a line, in arrival order) goes through the same core
the service runs (engine, notifier, escalation, repeats, quiet hours, away mode,
acknowledgements, store), on a virtual clock that moves from one input's ``at`` to the
next, ticking every ``tick_s`` of virtual time in between. Nothing is sent and no broker
is needed: every notification that would have been delivered is written, with the time
it would have reached the person, to NOTIFICATIONS.jsonl.

Input lines:
  {"at": MS, "topic": TOPIC (a device topic), "payload": {...} | "text", "retain": false}
  {"at": MS, "action": "ack", "rule": RULE, "site": SITE, "by": NAME}
  {"at": MS, "action": "close", "rule": RULE, "site": SITE, "reason": "resolved" or
   "false-alarm"} (the one who acknowledged it closes it, as on the page)
  {"at": MS, "action": "away", "site": SITE, "until": MS}
  {"at": MS, "action": "away-clear", "site": SITE}
  {"at": MS, "action": "restart"}
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from alerts import config as alerts_config
from alerts import schedule
from alerts.clock import VirtualClock
from alerts.core import AlertsCore
from alerts.routing import channel_kind
from alerts.store import Notification
from common.city.inventory import Inventory, load_inventory
from common.city.residents import Directory, load_residents
from common.yamlconf import ConfigError
from wire.payloads import MAX_ID

log = logging.getLogger(__name__)
DEFAULT_TICK_S = 60.0
Ms = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]


# Fields beyond these (a comment, MQTT properties) are ignored, not refused.
class MessageInput(msgspec.Struct):
    at: Ms
    topic: str
    # Kept as written: the bytes the device published (duplicate keys, huge numbers).
    payload: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    retain: bool = False
    qos: int = 1


class ActionInput(msgspec.Struct):
    at: Ms
    action: Literal["ack", "close", "away", "away-clear", "restart"]
    rule: str = ""
    site: str = ""
    by: str = "replay"
    until: Ms | None = None
    reason: Literal["resolved", "false-alarm"] = "resolved"


@dataclass
class Delivered:
    """One notification as it would have reached its person."""

    at: int
    rule: str
    site: str
    severity: str
    kind: str
    to: str
    channel: str
    subject: str
    text: str
    alert_id: int = 0

    def line(self) -> dict[str, Any]:
        return {"at": self.at, "rule": self.rule, "site": self.site, "severity": self.severity,
                "kind": self.kind, "to": self.to, "channel": self.channel,
                "subject": self.subject, "text": self.text}  # fmt: skip


@dataclass
class ReplayResult:
    delivered: list[Delivered] = field(default_factory=list)
    inputs: int = 0
    refused: int = 0
    errors: int = 0
    table: list[str] = field(default_factory=list)


class Replay:
    def __init__(self, config_path: Path, state_dir: Path, tick_s: float = DEFAULT_TICK_S) -> None:
        loaded = alerts_config.load(config_path)
        # State and the link secret live in the replay's own directory; nothing of the
        # configured service's files is read or written.
        self.config = msgspec.structs.replace(
            loaded, state_dir=str(state_dir), secret_file=str(state_dir / "ack-secret"),
            http_listen="127.0.0.1:0",
        )  # fmt: skip
        self.inventory: Inventory = load_inventory(Path(self.config.inventory))
        self.directory: Directory = load_residents(
            Path(self.config.residents), self.inventory, strict_mode=False
        )
        self.tick_ms = max(1, int(tick_s * 1000))
        self.clock = VirtualClock(0)
        self.result = ReplayResult()
        self._core: AlertsCore | None = None

    def run(self, stream: Path) -> ReplayResult:
        next_tick: int | None = None
        for number, item in _read(stream):
            if self._core is None:
                self.clock.advance_to(item.at)
                self._core = self._start()
                next_tick = item.at
            assert next_tick is not None
            next_tick = self._advance(next_tick, item.at)
            self.clock.advance_to(item.at)
            self._input(number, item)
            self._deliver()
            self.result.inputs += 1
        if self._core is not None:
            self._core.tick()
            self._deliver()
            self.result.table = self._table()
            self.result.refused += self._core.counts["refused"]
            self.result.errors += self._core.counts["errors"]
            self._core.close()
        return self.result

    # -- the clock -----------------------------------------------------------------------

    def _advance(self, next_tick: int, until: int) -> int:
        """Tick every tick_ms of virtual time up to (not including) ``until``."""
        assert self._core is not None
        while next_tick < until:
            self.clock.advance_to(next_tick)
            self._core.tick()
            self._deliver()
            next_tick += self.tick_ms
        return next_tick

    def _deliver(self) -> None:
        """Everything due is delivered: at its due time (a held warning at its release)."""
        assert self._core is not None
        store = self._core.store
        for note in store.due_any(self.clock.now_ms()):
            store.mark(note, state="sent", sent_at=note.next_at, attempts=note.attempts + 1)
            self.result.delivered.append(_delivered(note))

    # -- inputs --------------------------------------------------------------------------

    def _input(self, number: int, item: MessageInput | ActionInput) -> None:
        assert self._core is not None
        if isinstance(item, MessageInput):
            self._core.message(item.topic, _payload_bytes(item.payload))
        elif item.action == "restart":
            self._core.close()
            self._core = self._start()
        elif item.action == "ack":
            if not self._core.acknowledge_open(item.rule, item.site, item.by):
                log.info("line %d: no open %s alert at %s to acknowledge", number, item.rule,
                         item.site)  # fmt: skip
        elif item.action == "close":
            self._close(number, item)
        elif item.action == "away":
            self._core.set_away(item.site, item.until)
        else:
            self._core.set_away(item.site, None)

    def _close(self, number: int, item: ActionInput) -> None:
        """As on the acknowledgement page: the one who took it closes it."""
        assert self._core is not None
        taken = [r for r in self._core.store.alerts() if r.rule_id == item.rule
                 and r.site == item.site and r.state == "acknowledged"]  # fmt: skip
        for row in taken:
            self._core.close_alert(row.id, row.acked_by, item.reason)
        if not taken:
            log.info("line %d: no acknowledged %s alert at %s to close", number, item.rule,
                     item.site)  # fmt: skip

    def _start(self) -> AlertsCore:
        if self._core is not None:
            self.result.refused += self._core.counts["refused"]
            self.result.errors += self._core.counts["errors"]
        core = AlertsCore(self.config, self.inventory, self.directory, self.clock, durable=False)
        core.tick()
        return core

    # -- the readable table --------------------------------------------------------------

    def _table(self) -> list[str]:
        assert self._core is not None
        zone = self.inventory.city.timezone
        rows = self._core.store.alerts(open_only=False)
        told: dict[int, list[Delivered]] = {}
        for note in self.result.delivered:
            told.setdefault(note.alert_id, []).append(note)
        lines = [f"{'FIRED':<17} {'RULE':<22} {'SITE':<18} {'SEVERITY':<11} TOLD / RESOLVED"]
        for row in rows:
            people = sorted({f"{_local(n.at, zone)[11:]} {n.to}" for n in told.get(row.id, [])
                             if n.kind != "resolved"})  # fmt: skip
            resolved = _local(row.resolved_at, zone) if row.resolved_at else "open"
            lines.append(
                f"{_local(row.fired_at, zone):<17} {row.rule_id:<22} {row.site:<18} "
                f"{row.severity:<11} {', '.join(people) or 'nobody'}; resolved {resolved}"
            )
        summaries = [n for n in self.result.delivered if n.kind == "summary"]
        for note in summaries:
            lines.append(f"{_local(note.at, zone):<17} {'(morning summary)':<22} "
                         f"{note.site:<18} {'info':<11} {note.to}")  # fmt: skip
        return lines


def replay_to_file(
    config: Path, stream: Path, out: Path, state_dir: Path | None = None,
    tick_s: float = DEFAULT_TICK_S,
) -> ReplayResult:  # fmt: skip
    """Run a replay and write NOTIFICATIONS.jsonl (always, empty when nothing)."""
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        result = Replay(config, state_dir, tick_s).run(stream)
    else:
        with tempfile.TemporaryDirectory(prefix="civic-alerts-replay-") as temporary:
            result = Replay(config, Path(temporary), tick_s).run(stream)
    with out.open("w", encoding="utf-8") as handle:
        for note in result.delivered:
            handle.write(json.dumps(note.line(), ensure_ascii=False) + "\n")
    return result


# -- reading the stream ----------------------------------------------------------------------

# Lax: an "at" written as 1768000000000.0 is the same instant.
_message_decoder = msgspec.json.Decoder(MessageInput, strict=False)
_action_decoder = msgspec.json.Decoder(ActionInput, strict=False)


def _read(stream: Path) -> Iterator[tuple[int, MessageInput | ActionInput]]:
    try:
        handle = stream.open("rb")
    except OSError as exc:
        raise ConfigError(str(stream), f"cannot read the stream: {exc.strerror}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, _parse(stream, number, raw)


def _parse(stream: Path, number: int, raw: bytes) -> MessageInput | ActionInput:
    where = f"{stream}:{number}"
    try:
        if b'"action"' in raw:
            return _action_decoder.decode(raw)
        return _message_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ConfigError(where, f"{exc} (expected a message with at, topic, payload or an "
                                 "action: ack, away, away-clear, restart)") from None  # fmt: skip
    except msgspec.DecodeError as exc:
        raise ConfigError(where, f"not a JSON object: {exc}") from None


def _payload_bytes(payload: msgspec.Raw) -> bytes:
    """As published: an object is its JSON as written; a string its UTF-8 bytes (for
    payloads that are not JSON); null or missing is an empty payload (a cleared status)."""
    raw = bytes(payload).strip()
    if raw in (b"", b"null"):
        return b""
    if raw.startswith(b'"'):
        return str(msgspec.json.decode(raw)).encode("utf-8", "surrogatepass")
    return raw


def _delivered(note: Notification) -> Delivered:
    return Delivered(
        note.next_at, note.rule_id, note.site, note.severity or "info", note.kind or "firing",
        note.contact or "it", channel_kind(note.channel), note.subject, note.body,
        note.alert_id,
    )  # fmt: skip


def _local(ms: int, zone: str) -> str:
    return schedule.local(ms, zone).strftime("%Y-%m-%d %H:%M")
