"""A local stand-in of the LINE Messaging API's push endpoint, used by the demo and the
tests. It checks each request the way LINE documents it
(https://developers.line.biz/en/reference/messaging-api/#send-push-message):

- ``POST /v2/bot/message/push`` with ``Authorization: Bearer <channel access token>``
  (401 otherwise) and ``Content-Type: application/json``;
- ``X-Line-Retry-Key``, when sent, a UUID; a key already accepted gets 409 with
  ``x-line-accepted-request-id``, and the message is not delivered again;
- a body with ``to`` (a user ID, ``U`` and 32 hex digits) and 1 to 5 ``messages``: text
  of 1 to 5,000 characters, or a buttons template (``altText`` up to 400 characters,
  ``text`` up to 160, 1 to 4 actions, a URI action's label up to 20 and its URI http(s)).

``fail_next(n)`` makes the next n requests answer 500, as an outage would.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USER_ID = re.compile(r"^U[0-9a-f]{32}$")


@dataclass
class Pushed:
    to: str
    messages: list[dict[str, Any]]
    retry_key: str


class LineStandIn:
    def __init__(self, token: str) -> None:
        self.pushed: list[Pushed] = []
        self.refused: list[tuple[int, str]] = []
        self.retried: list[str] = []  # retry keys seen again
        self._lock = threading.Lock()
        self._accepted: dict[str, str] = {}  # retry key -> request id
        self._failures = 0
        stand_in, expected = self, f"Bearer {token}"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer, extra = stand_in._handle(
                    self.path, dict(self.headers), expected, raw
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failures = count

    def to(self, user_id: str) -> list[Pushed]:
        with self._lock:
            return [p for p in self.pushed if p.to == user_id]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, path: str, headers: dict[str, str], expected: str, raw: bytes
                ) -> tuple[int, dict[str, Any], dict[str, str]]:  # fmt: skip
        headers = {name.lower(): value for name, value in headers.items()}
        refusal = _request_problem(path, headers, expected) or _check(json.loads(raw or b"{}"))
        if refusal:
            status, message = refusal if isinstance(refusal, tuple) else (400, refusal)
            return self._refuse(status, message)
        key = headers.get("x-line-retry-key", "")
        with self._lock:
            if key in self._accepted:
                self.retried.append(key)
                accepted = {"x-line-accepted-request-id": self._accepted[key]}
                return 409, {"message": "The retry key is already accepted"}, accepted
            if self._failures:
                self._failures -= 1
                return 500, {"message": "An error occurred in the server"}, {}
            body = json.loads(raw)
            self.pushed.append(Pushed(body["to"], body["messages"], key))
            if key:
                self._accepted[key] = str(uuid.uuid4())
        sent = [{"id": str(index), "quoteToken": "q"} for index in range(len(body["messages"]))]
        return 200, {"sentMessages": sent}, {}

    def _refuse(self, status: int, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.refused.append((status, message))
        return status, {"message": message}, {}


def _request_problem(path: str, headers: dict[str, str], expected: str) -> tuple[int, str] | None:
    if path != "/v2/bot/message/push":
        return 404, "Not found"
    if headers.get("authorization") != expected:
        return 401, "Authentication failed due to the following reason: invalid token."
    if not headers.get("content-type", "").startswith("application/json"):
        return 415, "The content type is not application/json"
    key = headers.get("x-line-retry-key", "")
    try:
        if key:
            uuid.UUID(key)
    except ValueError:
        return 400, "The retry key must be a UUID"
    return None


def _check(body: dict[str, Any]) -> str:
    if not USER_ID.match(str(body.get("to", ""))):
        return "The value for the 'to' property is invalid"
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return "Size must be between 1 and 5 (messages)"
    for index, message in enumerate(messages):
        problem = _check_message(message)
        if problem:
            return f"messages[{index}]: {problem}"
    return ""


def _check_message(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return "" if 1 <= len(message.get("text", "")) <= 5000 else "text: 1 to 5000 characters"
    if message.get("type") != "template":
        return f"type {message.get('type')!r} is not text or template"
    if not 1 <= len(message.get("altText", "")) <= 400:
        return "altText: 1 to 400 characters"
    return _check_buttons(message.get("template", {}))


def _check_buttons(template: dict[str, Any]) -> str:
    if template.get("type") != "buttons" or not 1 <= len(template.get("text", "")) <= 160:
        return "template: buttons with text of 1 to 160 characters"
    actions = template.get("actions", [])
    if not 1 <= len(actions) <= 4:
        return "template.actions: 1 to 4"
    for action in actions:
        if action.get("type") != "uri" or not 1 <= len(action.get("label", "")) <= 20:
            return "actions: a uri action with a label of 1 to 20 characters"
        if not str(action.get("uri", "")).startswith(("http://", "https://")):
            return "actions: uri must be http or https"
    return ""
