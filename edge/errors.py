"""Errors of the edge agent; each carries what it was doing and with what."""

from __future__ import annotations


class EdgeError(Exception):
    """Base of the edge agent's errors."""


class CollectorError(EdgeError):
    """A collector could not read its source this time; it is retried next interval."""

    def __init__(self, collector: str, reason: str) -> None:
        self.collector = collector
        self.reason = reason
        super().__init__(f"collector {collector!r}: {reason}")
