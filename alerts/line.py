"""LINE Messaging API push (LINE Notify ended on 2025-03-31), with LINE's own SDK
(line-bot-sdk, Apache-2.0): the message as text with its lines, then a button to the
acknowledgement page. Each notification has its own ``X-Line-Retry-Key`` (derived from
it), so a retry after a timeout is never delivered twice: LINE answers 409 for a key it
has already accepted, which counts as sent."""

from __future__ import annotations

import uuid
from pathlib import Path

from linebot.v3.messaging import (
    ApiClient,
    ButtonsTemplate,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    TemplateMessage,
    TextMessage,
    URIAction,
)
from linebot.v3.messaging.exceptions import ApiException

from alerts.config import LineConfig
from alerts.errors import DeliveryError
from alerts.links import ACK_LINK
from alerts.store import Notification

_TEXT_MAX = 5_000  # LINE's limit for a text message
_BUTTON = {"ja": ("対応します", "押すと、ほかの方への連絡が止まります"),
           "en": ("I'll take it", "Stops the calls to the others")}  # fmt: skip


class LineChannel:
    def __init__(self, config: LineConfig) -> None:
        token = Path(config.token_file).read_text(encoding="utf-8").strip()
        self._configuration = Configuration(host=config.api_url.rstrip("/"), access_token=token)

    def deliver(self, note: Notification) -> None:
        """A ``line://<user id>`` notification; DeliveryError with LINE's reason."""
        user_id = note.url.split("://", 1)[1].rsplit("/", 1)[-1]
        request = PushMessageRequest(to=user_id, messages=messages(note))
        try:
            with ApiClient(self._configuration) as client:
                MessagingApi(client).push_message(request, x_line_retry_key=retry_key(note))
        except ApiException as exc:
            if exc.status == 409:  # this retry key was accepted before: it went out
                return
            retry = 3_600.0 if exc.status == 429 else None  # quota or rate: wait
            raise DeliveryError("line", f"LINE {exc.status}: {_reason(exc)}",
                                retry_after_s=retry) from None  # fmt: skip
        except OSError as exc:
            raise DeliveryError("line", f"LINE unreachable: {exc}") from None


def retry_key(note: Notification) -> str:
    """The same UUID for every attempt at one notification (LINE deduplicates on it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"civic-iot:{note.dedup_key}"))


def messages(note: Notification) -> list[TextMessage | TemplateMessage]:
    link = ACK_LINK.search(note.body)
    text = f"{note.subject}\n{ACK_LINK.sub('', note.body).rstrip()}"
    found: list[TextMessage | TemplateMessage] = [
        TextMessage(text=text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 1] + "…")
    ]
    if link is not None:
        label, hint = _BUTTON["en" if note.language == "en" else "ja"]
        found.append(TemplateMessage(
            alt_text=f"{note.subject[:380]} {label}",
            template=ButtonsTemplate(text=hint, actions=[URIAction(label=label, uri=link.group())]),
        ))  # fmt: skip
    return found


def _reason(exc: ApiException) -> str:
    body = (exc.body or "").strip() if isinstance(exc.body, str) else str(exc.body or "")
    return " ".join((body or str(exc.reason or "")).split())[:300]
