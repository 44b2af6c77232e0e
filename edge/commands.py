"""Commands IT sends as MQTT v5 requests: ping, collect-now, get-config, restart-agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wire import CommandRequest

CommandHandler = Callable[[CommandRequest], Any]


class CommandError(Exception):
    """A command that cannot be carried out; the reason goes back to the requester."""


class Commands:
    def __init__(self) -> None:
        self._handlers: dict[str, CommandHandler] = {}

    def register(self, name: str, handler: CommandHandler) -> None:
        self._handlers[name] = handler

    def run(self, request: CommandRequest) -> Any:
        handler = self._handlers.get(request.command)
        if handler is None:
            known = ", ".join(sorted(self._handlers))
            raise CommandError(f"unknown command {request.command!r}; known: {known}")
        return handler(request)
