"""The agent's recent log, kept in memory for IT's `logs` and `diag` commands (no SSH
into a home), with personal data taken out before a line is even kept: MAC addresses,
e-mail addresses and phone numbers."""

from __future__ import annotations

import collections
import logging
import re
import threading

MAX_KEPT_BYTES = 512 * 1024
MAX_ANSWER_BYTES = 64 * 1024  # well inside the broker's packet limit
_PERSONAL = (
    (re.compile(r"\b[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}\b"), "<mac>"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<e-mail>"),
    (re.compile(r"(?:\+\d{1,3}[\s-]?)?\(?0?\d{1,4}\)?[\s-]\d{1,4}[\s-]\d{3,4}\b|\+\d{9,15}\b"),
     "<phone>"),
)  # fmt: skip


def redact(text: str) -> str:
    for pattern, placeholder in _PERSONAL:
        text = pattern.sub(placeholder, text)
    return text


class LogBuffer(logging.Handler):
    """The last MAX_KEPT_BYTES of log lines, redacted, with their times (epoch ms)."""

    def __init__(self, kept_bytes: int = MAX_KEPT_BYTES) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._lines: collections.deque[tuple[int, str]] = collections.deque()
        self._bytes = 0
        self._kept_bytes = kept_bytes
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = redact(self.format(record))[:4096]
        except Exception:  # noqa: BLE001 - logging must never raise into the agent
            return
        with self._guard:
            self._lines.append((int(record.created * 1000), line))
            self._bytes += len(line) + 1
            while self._bytes > self._kept_bytes and self._lines:
                self._bytes -= len(self._lines.popleft()[1]) + 1

    def recent(self, since_ms: int = 0, max_bytes: int = MAX_ANSWER_BYTES) -> list[str]:
        """The newest lines at or after ``since_ms`` that fit in ``max_bytes``, oldest first."""
        chosen: list[str] = []
        size = 0
        with self._guard:
            for created, line in reversed(self._lines):
                if created < since_ms or size + len(line) + 1 > max_bytes:
                    break
                chosen.append(line)
                size += len(line) + 1
        return chosen[::-1]


def install(logger: logging.Logger | None = None) -> LogBuffer:
    buffer = LogBuffer()
    (logger or logging.getLogger()).addHandler(buffer)
    return buffer
