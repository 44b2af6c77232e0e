"""The one family of errors the wire contract raises."""

from __future__ import annotations


class WireError(Exception):
    """Base of every error of the MQTT contract."""


class TopicError(WireError):
    """A topic that is not part of the contract, or a device ID that is not allowed."""


class PayloadError(WireError):
    """A payload that does not decode or does not follow the contract.

    ``where`` is a JSON path into the payload (``$.readings[2].unit``) or ``$`` for the
    whole document; ``topic`` is the topic it arrived on, when known.
    """

    def __init__(self, reason: str, *, where: str = "$", topic: str | None = None) -> None:
        self.reason = reason
        self.where = where
        self.topic = topic
        super().__init__(str(self))

    def __str__(self) -> str:
        on = f" on topic {self.topic!r}" if self.topic else ""
        return f"payload{on} at {self.where}: {self.reason}"

    def with_topic(self, topic: str) -> PayloadError:
        return PayloadError(self.reason, where=self.where, topic=topic)
