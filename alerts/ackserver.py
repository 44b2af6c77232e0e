"""Acknowledgement over HTTP: the signed link in a notification opens a page that works
on a phone; its button acknowledges. GET never changes anything, because mail and chat
apps open links to preview them.

The handler only checks the signature and hands the request to the service's loop
(a queue), which owns all alert state, then shows the answer.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from alerts.ackpage import (
    FamilyView,
    PageAlert,
    alert_page,
    button_form,
    choose_language,
    close_forms,
    family_page,
    message_page,
)
from alerts.clock import Clock, SystemClock
from alerts.phone import phone_answer
from alerts.routing import Signer
from common.labels import Lang

if TYPE_CHECKING:
    from alerts.health import Health

log = logging.getLogger(__name__)


@dataclass
class AckRequest:
    """For the service loop: acknowledge (or, with ``look_only``, describe) an alert."""

    alert_id: int
    who: str
    look_only: bool
    lang: Lang = "ja"
    done: threading.Event = field(default_factory=threading.Event)
    page: PageAlert | None = None  # what the page shows of the alert, in ``lang``
    found: bool = False
    open: bool = False  # the alert still waits for someone (the button is shown)
    close: str = ""  # "resolved" or "false-alarm": the one who took it closes it
    closable: bool = False  # taken by this reader, who may close it


@dataclass
class FamilyRequest:
    """For the service loop: a contact's page of their resident (``/family/<id>``)."""

    contact_id: str
    lang: Lang = "ja"
    done: threading.Event = field(default_factory=threading.Event)
    page: FamilyView | None = None


_TEXTS = {
    "ja": {"missing": "該当する通知がありません。", "invalid": "このリンクは無効です。",
           "expired": "このリンクは期限切れです。",
           "busy": "混み合っています。もう一度お試しください。"},
    "en": {"missing": "No such alert.", "invalid": "This link is not valid.",
           "expired": "This link has expired.", "busy": "Busy; please try again."},
}  # fmt: skip


class AckServer:
    def __init__(
        self,
        host: str,
        port: int,
        signer: Signer,
        submit: Callable[[AckRequest | FamilyRequest], None],
        *,
        health: Health | None = None,
        clock: Clock | None = None,
    ) -> None:
        handler = _handler(signer, submit, health, clock or SystemClock())
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_MAX_FORM_BYTES = 4096
# The page holds a resident's situation: no framing, no caching, no referrer, no script.
_SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
)  # fmt: skip


def _handler(
    signer: Signer,
    submit: Callable[[AckRequest | FamilyRequest], None],
    health: Health | None,
    clock: Clock,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/family/"):
                self._family()
                return
            if self.path in ("/healthz", "/health"):
                code, body = health.healthz() if health else (200, b'{"status": "ok"}')
                self._send(code, body.decode(), "application/json")
                return
            if self.path == "/metrics" and health is not None:
                self._send(200, health.metrics().decode(), "text/plain; version=0.0.4")
                return
            self._ack(look_only=True)

        def do_POST(self) -> None:
            self._ack(look_only=False)

        def _ack(self, *, look_only: bool) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query))
            if not look_only:
                length = min(int(self.headers.get("Content-Length") or 0), _MAX_FORM_BYTES)
                form = self.rfile.read(length).decode("utf-8", errors="replace")
                params |= dict(urllib.parse.parse_qsl(form))
            lang = choose_language(params.get("lang", ""), self.headers.get("Accept-Language", ""))
            texts = _TEXTS[lang]
            parts = parsed.path.strip("/").split("/")
            if len(parts) != 2 or parts[0] != "ack" or not parts[1].isdigit():
                self._send(404, message_page(texts["missing"], lang))
                return
            alert_id, who, expires = int(parts[1]), params.get("who", ""), params.get("exp", "")
            if not signer.valid(alert_id, who, expires, params.get("sig", "")):
                self._send(403, message_page(texts["invalid"], lang))
                return
            if int(expires) * 1000 <= clock.now_ms():
                self._send(410, message_page(texts["expired"], lang))
                return
            if "Digits" in params:  # a key pressed during a call (alerts/phone.py)
                self._phone_key(AckRequest(alert_id, who, look_only, lang), params["Digits"])
                return
            request = AckRequest(alert_id, who, look_only, lang)
            if not look_only:
                request.close = params.get("close", "")
            submit(request)
            if not request.done.wait(10):
                self._send(503, message_page(texts["busy"], lang))
                return
            if request.page is None:
                self._send(404, message_page(texts["missing"], lang))
                return
            signed = {"who": who, "exp": expires, "sig": params["sig"]}
            fields = {**signed, "lang": lang}
            form = button_form(parsed.path, fields, lang) if request.open else ""
            if request.closable:
                form = close_forms(parsed.path, fields, lang)
            other = "en" if lang == "ja" else "ja"
            switch = f"{parsed.path}?{urllib.parse.urlencode({**signed, 'lang': other})}"
            self._send(200, alert_page(request.page, lang, form, switch))

        def _family(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query))
            accepted = self.headers.get("Accept-Language", "")
            lang = choose_language(params.get("lang", ""), accepted)
            texts = _TEXTS[lang]
            contact_id = urllib.parse.unquote(parsed.path.removeprefix("/family/"))
            expires = params.get("exp", "")
            if not signer.valid_family(contact_id, expires, params.get("sig", "")):
                self._send(403, message_page(texts["invalid"], lang))
                return
            if int(expires) * 1000 <= clock.now_ms():
                self._send(410, message_page(texts["expired"], lang))
                return
            request = FamilyRequest(contact_id, lang)
            submit(request)
            if not request.done.wait(10) or request.page is None:
                self._send(404, message_page(texts["missing"], lang))
                return
            other = {**params, "lang": "en" if lang == "ja" else "ja"}
            switch = f"{parsed.path}?{urllib.parse.urlencode(other)}"
            self._send(200, family_page(request.page, lang, switch))

        def _phone_key(self, request: AckRequest, digits: str) -> None:
            """Twilio posts the key pressed; only 1 acknowledges. The answer is TwiML."""
            pressed_one = digits.strip() == "1"
            if pressed_one:
                submit(request)
                pressed_one = request.done.wait(10) and request.found
            self._send(200, phone_answer(pressed_one), "text/xml")

        def _send(self, status: int, body: str, content_type: str = "text/html") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in _SECURITY_HEADERS:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("ack http: " + format, *args)

    return Handler
