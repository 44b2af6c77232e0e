"""Log when something starts failing and when it recovers, not on every poll."""

from __future__ import annotations

import logging


class StateLog:
    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._failing: dict[str, str] = {}

    def failed(self, source: str, reason: str) -> bool:
        """Record a failure; true when the source was not failing before."""
        started = source not in self._failing
        if started:
            self._logger.warning("%s is failing: %s", source, reason)
        self._failing[source] = reason
        return started

    def ok(self, source: str) -> None:
        if self._failing.pop(source, None) is not None:
            self._logger.warning("%s recovered", source)

    def is_failing(self, source: str) -> bool:
        return source in self._failing

    def failing(self) -> dict[str, str]:
        """What is failing now, with the last reason (for diagnostics)."""
        return dict(self._failing)
