"""A local stand-in of Twilio's REST API (2010-04-01) for SMS and calls, used by the
demo and the tests. It checks each request the way Twilio documents it and answers
with Twilio's shapes and error codes:

- HTTP Basic auth with the Account SID and auth token (401, code 20003, otherwise);
- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded ``To`` and
  ``From`` in E.164 (400, code 21211 / 21212), ``Body`` of 1 to 1,600 characters
  (21602 / 21617);
- ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` with ``To``, ``From`` and one of
  ``Url`` or ``Twiml`` (21205), ``Twiml`` at most 4,000 characters and well-formed XML
  with a ``<Response>`` root;
- 201 with ``sid`` (``SM…``/``CA…``), ``status: queued`` and the fields echoed.

A call can be "answered": ``press(call, digits)`` posts the key to the call's
``<Gather action>`` the way Twilio would (form ``Digits``, ``CallSid``).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass
class Sent:
    kind: str  # "sms" or "call"
    to: str
    sender: str
    body: str  # the SMS text, or the call's TwiML
    sid: str


class TwilioStandIn:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.sent: list[Sent] = []
        self.refused: list[tuple[int, str]] = []
        lock = threading.Lock()
        expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, answer = stand_in._handle(
                    self.path, self.headers.get("Authorization", ""), expected, form
                )
                with lock:
                    if status >= 400:
                        stand_in.refused.append((status, answer["message"]))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._lock = lock
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def texts(self, to: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.kind == "sms" and s.to == to]

    def calls(self, to: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.kind == "call" and s.to == to]

    def press(self, call: Sent, digits: str) -> str:
        """Answer a call and press keys: Twilio posts them to the Gather's action."""
        gather = ET.fromstring(call.body).find("Gather")  # noqa: S314 - our own TwiML
        if gather is None:
            raise AssertionError(f"call {call.sid} asks for no key: {call.body}")
        form = urllib.parse.urlencode({"Digits": digits, "CallSid": call.sid,
                                       "AccountSid": self.account_sid}).encode()  # fmt: skip
        request = urllib.request.Request(gather.attrib["action"], data=form, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return str(answer.read().decode())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API -----------------------------------------------------------------------

    def _handle(self, path: str, auth: str, expected: str, form: dict[str, str]
                ) -> tuple[int, dict[str, Any]]:  # fmt: skip
        if auth != expected:
            return _error(401, 20003, "Authenticate")
        base = f"/2010-04-01/Accounts/{self.account_sid}/"
        if path == base + "Messages.json":
            return self._message(form)
        if path == base + "Calls.json":
            return self._call(form)
        return _error(404, 20404, f"The requested resource {path} was not found")

    def _addresses(self, form: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        if not E164.match(form.get("To", "")):
            return _error(
                400, 21211, f"The 'To' number {form.get('To')} is not a valid phone number."
            )
        if not E164.match(form.get("From", "")):
            return _error(
                400, 21212, f"The 'From' number {form.get('From')} is not a valid phone number."
            )
        return None

    def _message(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        problem = self._addresses(form)
        if problem:
            return problem
        body = form.get("Body", "")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        return self._record("sms", "SM", form, body)

    def _call(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        problem = self._addresses(form)
        if problem:
            return problem
        twiml = form.get("Twiml", "")
        if not twiml and not form.get("Url"):
            return _error(400, 21205, "Url parameter is required.")
        if len(twiml) > 4000:
            return _error(400, 21208, "Twiml is longer than 4000 characters.")
        try:
            root = ET.fromstring(twiml)  # noqa: S314 - checked, not trusted
        except ET.ParseError as exc:
            return _error(400, 12100, f"Document parse failure: {exc}")
        if root.tag != "Response":
            return _error(400, 12102, "The root element must be Response.")
        return self._record("call", "CA", form, twiml)

    def _record(self, kind: str, prefix: str, form: dict[str, str], body: str
                ) -> tuple[int, dict[str, Any]]:  # fmt: skip
        sid = prefix + secrets.token_hex(16)
        with self._lock:
            self.sent.append(Sent(kind, form["To"], form["From"], body, sid))
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": form["To"],
                     "from": form["From"], "status": "queued"}  # fmt: skip


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}  # fmt: skip
