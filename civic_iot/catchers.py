"""Local peers for notifications, used by the demo and the tests: an SMTP server
(aiosmtpd) that keeps every mail (and can save each as an .eml file), and an HTTP
receiver that keeps every JSON body posted to it. Both on free loopback ports."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from civic_iot.services import free_port


class Mail:
    def __init__(self, to: list[str], subject: str, body: str, html: str = "") -> None:
        self.to, self.subject, self.body, self.html = to, subject, body, html

    def __repr__(self) -> str:
        return f"Mail(to={self.to}, subject={self.subject!r})"


logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every command


class SmtpCatcher:
    """Keeps every message; refuses (550) recipients listed in ``refuse``."""

    def __init__(self, save_to: Path | None = None) -> None:
        self.port = free_port()
        self.save_to = save_to
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    # aiosmtpd's hook names
    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        rich = message.get_body(preferencelist=("html",))
        html = rich.get_content() if rich is not None else ""
        with self._lock:
            self.mails.append(Mail(list(envelope.rcpt_tos), str(message["subject"]), body, html))
            if self.save_to is not None:
                self.save_to.mkdir(parents=True, exist_ok=True)
                (self.save_to / f"{len(self.mails):04d}.eml").write_bytes(envelope.content)
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [mail for mail in self.mails if address in mail.to]

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=alerts@abashiri.example&mode=insecure"

    def close(self) -> None:
        self._controller.stop()


class WebhookReceiver:
    """Keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        lock = threading.Lock()
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                with lock:
                    bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/it"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
