"""Errors of the gateway; each says which database and what the server answered."""

from __future__ import annotations

import re

_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>:?\s*")


def network_reason(exc: BaseException) -> str:
    """What went wrong on the wire, in words: urllib3 puts its connection object's
    repr first ("<…HTTPConnection object at 0x7f…>: Failed to establish…")."""
    return _OBJECT_REPR.sub("", str(exc)).strip() or type(exc).__name__


class GatewayError(Exception):
    """Base of the gateway's errors."""


class WriteError(GatewayError):
    """A batch the time-series store did not take.

    ``retryable`` is true for what passes (connection refused, timeouts, 5xx such as
    InfluxDB 1.x's ``engine: error syncing wal``) and false for a refusal that a retry
    cannot change (4xx: bad line protocol, field type conflict, unknown database).
    """

    def __init__(self, database: str, reason: str, *, retryable: bool, status: int = 0):
        self.database = database
        self.reason = reason
        self.retryable = retryable
        self.status = status
        kind = "temporary" if retryable else "permanent"
        super().__init__(f"write to {database!r} failed ({kind}): {reason}")


class RegistryError(GatewayError):
    """The device registry file cannot be opened or read; names the file."""
