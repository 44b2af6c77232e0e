"""The MQTT contract that edge agents and the gateway share: topics, payloads, units."""

from __future__ import annotations

import time

from wire.errors import PayloadError, TopicError, WireError
from wire.payloads import (
    SCHEMA_VERSION,
    AlertAck,
    AlertState,
    CommandRequest,
    CommandResponse,
    ConfigDesired,
    ConfigReported,
    DeadLetter,
    Message,
    Reading,
    ReleaseDesired,
    ReleaseReported,
    ServiceEvent,
    Status,
    decode,
    decode_message,
    encode,
)
from wire.quantities import CATALOGUE, Quantity, ValueType, Zone
from wire.topics import DeviceTopic, Kind


def now_ms() -> int:
    """The event time the contract uses: UTC epoch milliseconds."""
    return time.time_ns() // 1_000_000


__all__ = [
    "CATALOGUE",
    "SCHEMA_VERSION",
    "AlertAck",
    "AlertState",
    "CommandRequest",
    "CommandResponse",
    "ConfigDesired",
    "ConfigReported",
    "DeadLetter",
    "DeviceTopic",
    "Kind",
    "Message",
    "PayloadError",
    "Quantity",
    "Reading",
    "ReleaseDesired",
    "ReleaseReported",
    "ServiceEvent",
    "Status",
    "TopicError",
    "ValueType",
    "WireError",
    "Zone",
    "decode",
    "decode_message",
    "encode",
    "now_ms",
]
