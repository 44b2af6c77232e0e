"""Payload models of the MQTT contract, their JSON encoding and strict decoding.

Every payload carries ``schema`` (the contract version, now 1). Readings travel in a
``Message`` on the telemetry, event and health topics, with the device's sequence number
and the event time in UTC epoch milliseconds. Golden files in ``wire/golden/`` pin the
exact format.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
from collections.abc import Sequence
from operator import attrgetter
from typing import Annotated, Any, Literal, NamedTuple, Protocol, TypeVar

import msgspec

from wire.errors import PayloadError
from wire.quantities import CATALOGUE, Quantity, ValueType
from wire.quick import MessageShape, QuickDecoder, SensorNames, Shapes, message_decoder
from wire.topics import DEVICE_ID_PATTERN

SCHEMA_VERSION = 1
# 2000-01-01 and 2100-01-01: anything outside is a broken clock or a unit mistake
# (seconds or microseconds sent as milliseconds).
MIN_TS_MS = 946_684_800_000
MAX_TS_MS = 4_102_444_800_000
MAX_READINGS = 1000
# Sensor names are configured, not data: a device with more distinct names than this is
# broken or hostile, and every receiver refuses the message that would add one more.
MAX_SENSORS_PER_DEVICE = 64
# Integers that are IDs or counters fit SQLite's and InfluxDB's signed 64 bits.
MAX_ID = 2**63 - 1
# A reading stamped further ahead of the receiver's clock than this is a broken clock:
# kept, it would look like the newest activity for years and hide everything after it.
MAX_AHEAD_MS = 5 * 60_000

MAX_SENSOR_NAME = 64
_SENSOR_NAME = f"[a-z0-9-]{{0,{MAX_SENSOR_NAME}}}"
SensorId = Annotated[str, msgspec.Meta(pattern=f"^{_SENSOR_NAME}$")]
# A device's or site's ID, as topics allow it; optionally empty.
_ENTITY = DEVICE_ID_PATTERN.pattern.removeprefix("^").removesuffix("$")
EntityId = Annotated[str, msgspec.Meta(pattern=f"^{_ENTITY}$")]
OptionalEntityId = Annotated[str, msgspec.Meta(pattern=f"^(?:{_ENTITY})?$")]
RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
EpochMs = Annotated[int, msgspec.Meta(ge=MIN_TS_MS, lt=MAX_TS_MS)]
Schema = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class Reading(_Strict):
    """One value of one quantity. ``sensor`` names the local sensor (a room, a meter);
    it is a configured name, never a MAC address. ``ts`` overrides the message time."""

    quantity: str
    value: bool | int | float
    unit: str
    sensor: SensorId = ""
    ts: EpochMs | None = None


SeqNumber = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]


class Message(_Strict):
    """Readings from one device: the payload of telemetry, event and health topics."""

    schema: Schema
    seq: SeqNumber
    ts: EpochMs
    readings: Annotated[list[Reading], msgspec.Meta(min_length=1, max_length=MAX_READINGS)]


class Status(_Strict):
    """Retained on the status topic: published as birth, and set as the last will."""

    schema: Schema
    state: Literal["online", "offline"]
    ts: EpochMs
    agent: str = ""
    # "graceful" for a clean shutdown, "connection-lost" for the last will.
    reason: str = ""


class ConfigDesired(_Strict):
    """Retained desired configuration for one device."""

    schema: Schema
    version: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    config: dict[str, Any]


class ConfigReported(_Strict):
    """What the device runs (``version``; 0 is its config file) and the answer to the
    desired version ``desired``: applied, or rejected with the reason."""

    schema: Schema
    version: Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
    state: Literal["applied", "rejected"]
    ts: EpochMs
    error: str = ""
    desired: Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)] = 0


ReleaseVersion = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+){0,3}$", max_length=32)]
LocalHours = Annotated[
    str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$")
]


class ReleaseDesired(_Strict):
    """Retained: the agent release a device should run (set by a rollout or by IT).

    ``source`` is the city's release directory (https URL or a path on the device); what
    is installed must be signed by the city's release key, which the device already
    holds, so this message cannot make a device run anything the city did not sign.
    ``window`` (local ``HH:MM-HH:MM`` in ``timezone``) is when it may update; empty:
    at once. Unhealthy ``deadline_s`` after the switch, it rolls back by itself."""

    schema: Schema
    version: ReleaseVersion
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    ts: EpochMs
    window: LocalHours | Literal[""] = ""
    timezone: str = "Asia/Tokyo"
    deadline_s: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = 300
    rollout: str = ""


ReleaseState = Literal["running", "scheduled", "installing", "failed", "refused"]


class ReleaseReported(_Strict):
    """Retained: the release a device runs and how the desired one fares: ``running``
    (desired is what runs), ``scheduled`` (waits for its window), ``installing``,
    ``failed`` (did not install, or was not healthy and was rolled back: ``error``
    says which) or ``refused`` (older than what runs, or not signed by the city)."""

    schema: Schema
    running: str
    state: ReleaseState
    ts: EpochMs
    desired: str = ""
    error: str = ""
    rollout: str = ""


class CommandRequest(_Strict):
    """A command; the MQTT v5 response topic and correlation data travel as properties."""

    schema: Schema
    command: str
    ts: EpochMs
    args: dict[str, Any] = msgspec.field(default_factory=dict)


class CommandResponse(_Strict):
    schema: Schema
    ok: bool
    ts: EpochMs
    result: Any = None
    error: str = ""


class DeadLetter(_Strict):
    """A payload a service refused, republished with the reason for whoever debugs it:
    an excerpt of at most DEAD_LETTER_EXCERPT bytes, the whole payload's length and its
    SHA-256, so a huge payload can never make the republished one exceed the broker's
    packet limit."""

    schema: Schema
    topic: str
    reason: str
    where: str
    received_ts: EpochMs
    payload: str
    encoding: Literal["utf-8", "base64"] = "utf-8"
    length: Annotated[int, msgspec.Meta(ge=0)] = 0
    sha256: str = ""


DEAD_LETTER_EXCERPT = 4096
# The broker's max_packet_size (provisioning renders it from here): a client that sends a
# bigger packet is disconnected, so every publisher checks with ``fits_packet`` first.
MAX_PACKET_BYTES = 256 * 1024
# Room for the fixed header, packet id and MQTT v5 properties we send.
_PACKET_OVERHEAD = 256


def fits_packet(topic: str, payload: bytes) -> bool:
    """Whether a PUBLISH of ``payload`` on ``topic`` stays within the broker's limit."""
    return len(topic.encode()) + len(payload) + _PACKET_OVERHEAD <= MAX_PACKET_BYTES


def dead_letter(
    topic: str, payload: bytes, reason: str, where: str, received_ts: int
) -> DeadLetter:
    """A bounded DeadLetter for a refused payload (excerpt, length, hash)."""
    text, encoding = dead_letter_text(payload[:DEAD_LETTER_EXCERPT])
    return DeadLetter(
        schema=SCHEMA_VERSION, topic=topic[:512], reason=reason[:1000], where=where[:200],
        received_ts=received_ts, payload=text, encoding=encoding, length=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )  # fmt: skip


ServiceEventKind = Literal["unknown-device", "device-silent", "device-back", "spool-overflow"]


class ServiceEvent(_Strict):
    """Something a service noticed that people must hear about, for the alerts service:
    a device not in firmware-config, a device gone silent or back, the spool full."""

    schema: Schema
    kind: ServiceEventKind
    ts: EpochMs
    device: str = ""
    site: str = ""
    detail: str = ""


class AlertAck(_Strict):
    """Someone takes care of an alert (from a console or another system)."""

    schema: Schema
    alert_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    by: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    ts: EpochMs


AlertSeverity = Literal["info", "warning", "urgent", "life-safety"]
AlertStateName = Literal["firing", "acknowledged", "resolved"]


class AlertState(_Strict):
    """Where an alert stands, published by the alerts service at every change (and again
    for open alerts once an hour) so that dashboards can list open alerts; the gateway
    stores it in the site's zone. Pseudonymous: site and rule, never a person's name."""

    schema: Schema
    alert_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    rule: RuleId
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    site: EntityId
    severity: AlertSeverity
    state: AlertStateName
    opened_ts: EpochMs
    ts: EpochMs
    device: OptionalEntityId = ""


Payload = TypeVar(
    "Payload",
    Message,
    Status,
    ConfigDesired,
    ConfigReported,
    ReleaseDesired,
    ReleaseReported,
    CommandRequest,
    CommandResponse,
    DeadLetter,
    ServiceEvent,
    AlertAck,
    AlertState,
)

_encoder = msgspec.json.Encoder()
_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
# Six hex octets with or without separators: a MAC address dressed as a sensor name.
_MAC_LIKE = re.compile(r"[0-9a-f]{2}(?:-?[0-9a-f]{2}){5}")
_AT = re.compile(r" - at `(?P<where>[^`]*)`$")


class ReadingView(Protocol):
    """What a receiver reads of a reading, whichever decoder made it."""

    @property
    def quantity(self) -> str: ...
    @property
    def value(self) -> bool | int | float: ...
    @property
    def unit(self) -> str: ...
    @property
    def sensor(self) -> str: ...
    @property
    def ts(self) -> int | None: ...


class MessageView(Protocol):
    """What a receiver reads of a message: a ``Message``, or the fast path's own type
    (wire/quick.py) with the same fields."""

    @property
    def schema(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> int: ...
    @property
    def readings(self) -> Sequence[ReadingView]: ...


def encode(payload: msgspec.Struct) -> bytes:
    return _encoder.encode(payload)


def decode(
    data: bytes, kind: type[Payload], *, topic: str | None = None, ranges: bool = True
) -> Payload:
    """Decode and validate one payload; raises PayloadError saying what and where
    (``ranges=False``: leave the readings' plausibility to the caller)."""
    result = _decode_struct(data, kind, topic)
    if isinstance(result, Message) and not _all_plausible(result.readings):
        _check_readings(result, topic, ranges=ranges)
    return result


def _decode_struct(data: bytes, kind: type[Payload], topic: str | None) -> Payload:
    """The payload decoded, its schema version and its keys checked (not its readings)."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        result: Payload = decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise _validation_error(str(exc), topic) from None
    except msgspec.DecodeError as exc:
        raise PayloadError(f"not valid JSON: {exc}", topic=topic) from None
    if result.schema != SCHEMA_VERSION:
        raise PayloadError(
            f"schema {result.schema} is not supported, expected {SCHEMA_VERSION}",
            where="$.schema",
            topic=topic,
        )
    if not isinstance(result, Message) or _duplicates_possible(data, result.readings):
        _refuse_duplicate_keys(data, topic)
    return result


class _Expected(NamedTuple):
    unit: str
    types: tuple[type, ...]
    low: float
    high: float


def _expected(quantity: Quantity) -> _Expected:
    types: tuple[type, ...] = {
        ValueType.BOOL: (bool,), ValueType.INT: (int,), ValueType.FLOAT: (float, int),
    }[quantity.type]  # fmt: skip
    # Inside these limits a value is finite and fits 64 bits, whatever the quantity says.
    low, high = max(quantity.low, -(2.0**62)), min(quantity.high, 2.0**62)
    return _Expected(quantity.unit, types, low, high)


_EXPECTED = {name: _expected(quantity) for name, quantity in CATALOGUE.items()}


def _sensor_name_good(name: str) -> bool:
    return _SENSOR_NAME_RE.fullmatch(name) is not None and _MAC_LIKE.fullmatch(name) is None


_SENSOR_NAME_RE = re.compile(_SENSOR_NAME)
_QUANTITY, _SENSOR, _TS = attrgetter("quantity"), attrgetter("sensor"), attrgetter("ts")
_sensor_names = SensorNames(_sensor_name_good)
_shapes = Shapes(_sensor_name_good)


@functools.cache
def _quick_decoder() -> QuickDecoder:
    """Built on first use: an agent never decodes telemetry."""
    return message_decoder(schema=SCHEMA_VERSION, epoch_ms=EpochMs, seq=SeqNumber,
                           max_readings=MAX_READINGS, max_sensor=MAX_SENSOR_NAME)  # fmt: skip


def _all_plausible(readings: list[Reading]) -> bool:
    """The exact path's one look at a message's readings: true when every reading has a
    known quantity, its unit, a value of its type inside its physical range and a
    sensor name that is no MAC address. Anything else (false) goes to the checks that
    say exactly what is wrong and where."""
    expected = _EXPECTED
    for reading in readings:
        spec = expected.get(reading.quantity)
        if spec is None or reading.unit != spec.unit:
            return False
        value = reading.value
        if type(value) not in spec.types:
            return False
        if type(value) is not bool and not spec.low <= value <= spec.high:
            return False  # NaN too: it compares false
    return _sensor_names.all_good(set(map(_SENSOR, readings)))


class Decoded(NamedTuple):
    """A message of readings as a receiver takes it."""

    message: MessageView
    # The usual message's shape (wire/quick.py); None when a reading has a time of its
    # own, or when the exact path decoded it.
    shape: MessageShape | None
    implausible: Sequence[PayloadError]  # readings taken out, each with what was wrong


def decode_faultless(data: bytes) -> MessageView | None:
    """The message, decoded at C speed (wire/quick.py), if every part of it is
    faultless; None sends the caller to the exact path, which names what is wrong."""
    quick = _decode_quick(data)
    return None if quick is None else quick.message


def shape_of(message: MessageView) -> MessageShape | None:
    """The shape of a decoded message; None when a reading has a time of its own."""
    readings = message.readings
    return None if any(map(_TS, readings)) else _shape(readings)


def _shape(readings: Sequence[ReadingView]) -> MessageShape | None:
    return _shapes.of(tuple(map(_QUANTITY, readings)), tuple(map(_SENSOR, readings)))


def _decode_quick(data: bytes) -> Decoded | None:
    try:
        message: MessageView = _quick_decoder().decode(data)
    except msgspec.DecodeError:  # a ValidationError too
        return None
    readings = message.readings
    shape = _shape(readings)
    if shape is None:  # a sensor name that is no name: the exact path says which
        return None
    # Every key of a faultless message is known and no value holds a colon, so when
    # the bytes have exactly as many colons as the decoded message has keys, none was
    # given twice. The usual message: as many as its shape has (so no reading has a
    # time of its own, which would be one key more).
    colons = data.count(b":")
    if colons == shape.keys:
        return Decoded(message, shape, ())
    if colons != _keys(readings, shape.sensors):
        return None
    return Decoded(message, None, ())


def _duplicates_possible(data: bytes, readings: Sequence[ReadingView]) -> bool:
    """Cheap first look (the hot path decodes thousands of messages a second): every
    key of a message is known and its values cannot hold a quote, so when the number
    of ``":`` in the raw bytes is exactly the number of keys the decoded message must
    have had, none was given twice; anything else gets the exact check."""
    return data.count(b'":') != _keys(readings, list(map(_SENSOR, readings)))


def _keys(readings: Sequence[ReadingView], sensors: Sequence[str]) -> int:
    """The keys of a message with these readings (and their sensors): schema, seq, ts and
    readings; quantity, value and unit of each reading; the sensors and times given."""
    return 4 + 5 * len(readings) - sensors.count("") - list(map(_TS, readings)).count(None)


def _refuse_duplicate_keys(data: bytes, topic: str | None) -> None:
    """PayloadError naming a key given twice in one object (JSON decoders disagree on
    which one wins, so a payload could mean one thing to us and another to a peer)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise PayloadError(f"key {key!r} is given twice", topic=topic)
            seen[key] = value
        return seen

    json.loads(data, object_pairs_hook=unique)


def decode_message(data: bytes, *, topic: str | None = None) -> Message:
    return decode(data, Message, topic=topic)


def _validation_error(text: str, topic: str | None) -> PayloadError:
    match = _AT.search(text)
    if match is None:
        return PayloadError(text, topic=topic)
    return PayloadError(text[: match.start()], where=match["where"], topic=topic)


def guard_sensor_names(
    known: frozenset[str], device: str, message: MessageView, topic: str
) -> frozenset[str]:
    """The device's sensor names so far with the message's added (``known`` itself when
    none is new), or PayloadError if that would make more than MAX_SENSORS_PER_DEVICE:
    every receiver's state grows with the names a device sends. Frozen, so a receiver
    of 50,000 devices can share one set among devices with the same sensors."""
    if known.issuperset(map(_SENSOR, message.readings)):  # the usual case
        return known
    new = set(map(_SENSOR, message.readings)) - known
    if len(known) + len(new) > MAX_SENSORS_PER_DEVICE:
        raise PayloadError(
            f"device {device} would have more than {MAX_SENSORS_PER_DEVICE} distinct "
            f"sensor names with {sorted(new)[:3]}; sensor names are configured, not data",
            where="$.readings[*].sensor",
            topic=topic,
        )
    return known | new


def decode_plausible(
    data: bytes, *, topic: str | None = None
) -> tuple[MessageView, Sequence[PayloadError]]:
    """A message whose impossible readings (out of range, not finite, beyond 64 bits)
    are taken out one by one, with an error naming each; the others are kept. Raises
    PayloadError when the message itself is malformed or no reading remains."""
    decoded = decode_readings(data, topic=topic)
    return decoded.message, decoded.implausible


def decode_readings(data: bytes, *, topic: str | None = None) -> Decoded:
    """``decode_plausible``, with the usual message's shape."""
    quick = _decode_quick(data)
    if quick is not None:  # the usual case
        return quick
    message = _decode_struct(data, Message, topic)  # raises if the message is malformed
    if _all_plausible(message.readings):
        return Decoded(message, None, ())
    _check_readings(message, topic, ranges=False)
    problems: list[PayloadError] = []
    kept = []
    for index, reading in enumerate(message.readings):
        problem = _range_problem(reading.value, CATALOGUE[reading.quantity])
        if problem:
            where = f"$.readings[{index}].value"
            problems.append(PayloadError(f"{reading.quantity}: {problem}", where=where,
                                         topic=topic))  # fmt: skip
        else:
            kept.append(reading)
    if not kept:
        raise problems[0]
    if problems:
        message = msgspec.structs.replace(message, readings=kept)
    return Decoded(message, None, problems)


def plausible_readings(readings: list[Reading]) -> tuple[list[Reading], list[str]]:
    """The readings a receiver would accept, and why the others are not (for the edge:
    an impossible value never enters the outbox)."""
    kept, problems = [], []
    for reading in readings:
        quantity = CATALOGUE.get(reading.quantity)
        problem = _range_problem(reading.value, quantity) if quantity else "unknown quantity"
        if problem:
            problems.append(f"{reading.quantity} ({reading.sensor or '-'}): {problem}")
        else:
            kept.append(reading)
    return kept, problems


def _check_readings(message: Message, topic: str | None, *, ranges: bool = True) -> None:
    for index, reading in enumerate(message.readings):
        where = f"$.readings[{index}]"
        quantity = CATALOGUE.get(reading.quantity)
        if quantity is None:
            raise PayloadError(
                f"unknown quantity {reading.quantity!r} (see wire/quantities.py)",
                where=f"{where}.quantity",
                topic=topic,
            )
        if reading.unit != quantity.unit:
            raise PayloadError(
                f"unit {reading.unit!r} for {quantity.name}, expected {quantity.unit!r}",
                where=f"{where}.unit",
                topic=topic,
            )
        if _MAC_LIKE.fullmatch(reading.sensor):
            raise PayloadError(
                f"sensor {reading.sensor!r} looks like a hardware address; sensors are "
                "configured names, and MAC addresses never leave the device",
                where=f"{where}.sensor",
                topic=topic,
            )
        problem = _value_problem(reading.value, quantity.type)
        if not problem and ranges:
            problem = _range_problem(reading.value, quantity)
        if problem:
            raise PayloadError(f"{quantity.name}: {problem}", where=f"{where}.value", topic=topic)


def _value_problem(value: bool | int | float, expected: ValueType) -> str:
    is_bool = isinstance(value, bool)
    if expected is ValueType.BOOL:
        return "" if is_bool else f"expected true or false, got {value!r}"
    if is_bool:
        return f"expected a number, got {value!r}"
    if expected is ValueType.INT and not isinstance(value, int):
        return f"expected an integer, got {_shown(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value!r}"
    return ""


def _range_problem(value: bool | int | float, quantity: Quantity) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        # InfluxDB refuses the whole batch over one integer it cannot store.
        return f"expected a 64-bit integer, got {_shown(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value!r}"
    if quantity.low <= value <= quantity.high:
        return ""
    limits = f"{quantity.low:g}..{quantity.high:g} {quantity.unit}"
    return f"{_shown(value)} is outside the possible range {limits}"


def _shown(value: int | float) -> str:
    """A value for an error message: a 400-digit integer shortened."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} digits)"


def clock_problem(
    message: MessageView,
    received_ms: int,
    *,
    topic: str | None = None,
    shape: MessageShape | None = None,
) -> None:
    """PayloadError if the message or one of its readings is stamped more than
    MAX_AHEAD_MS after ``received_ms`` (the receiver's clock). A message with a shape
    has no reading with a time of its own."""
    latest = received_ms + MAX_AHEAD_MS
    if message.ts > latest:
        raise PayloadError(_ahead(message.ts, received_ms), where="$.ts", topic=topic)
    if shape is not None or max(filter(None, map(_TS, message.readings)), default=0) <= latest:
        return
    for index, reading in enumerate(message.readings):
        if reading.ts is not None and reading.ts > latest:
            raise PayloadError(
                _ahead(reading.ts, received_ms), where=f"$.readings[{index}].ts", topic=topic
            )


def _ahead(ts: int, received_ms: int) -> str:
    minutes = (ts - received_ms) / 60_000
    return (
        f"timestamp {ts} is {minutes:,.0f} min ahead of the receiver's clock "
        f"({received_ms}); at most {MAX_AHEAD_MS // 60_000} min is accepted (device clock wrong?)"
    )


def dead_letter_text(data: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    """The refused payload as text for a DeadLetter: UTF-8 if it is (an excerpt cut in
    the middle of a character keeps the whole ones), else base64."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8"), "utf-8"
        return base64.b64encode(data).decode("ascii"), "base64"


# The gateway found numbers missing from a device's sequence and asks for them again:
# a command request ``resend`` with ``args = {"ranges": [[first, last], ...]}``.
RESEND_COMMAND = "resend"
MAX_RESEND_RANGES = 64


class ResendArgs(_Strict):
    ranges: Annotated[
        list[tuple[SeqNumber, SeqNumber]], msgspec.Meta(min_length=1, max_length=MAX_RESEND_RANGES)
    ]


def resend_request(ranges: list[tuple[int, int]], ts: int) -> CommandRequest:
    args = {"ranges": [list(span) for span in ranges[:MAX_RESEND_RANGES]]}
    return CommandRequest(schema=1, command=RESEND_COMMAND, ts=ts, args=args)


def resend_ranges(request: CommandRequest) -> list[tuple[int, int]]:
    """The ranges of a resend request, each first ≤ last; PayloadError names what is wrong."""
    try:
        args = msgspec.convert(request.args, ResendArgs)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"resend: {exc}", where="$.args") from None
    for first, last in args.ranges:
        if first > last:
            raise PayloadError(f"resend: [{first}, {last}] runs backwards", where="$.args.ranges")
    return list(args.ranges)
