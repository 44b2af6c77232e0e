"""SMS and automated voice calls to contacts who have only a phone (many elderly
residents' families and neighbours, 民生委員), through Twilio's REST API with its own
library. A call reads the alert in Japanese (or English) and asks the contact to press
1; Twilio posts the key to the alert's signed acknowledgement link, so pressing 1
acknowledges exactly like tapping the link."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from alerts.config import PhoneConfig
from alerts.errors import DeliveryError
from alerts.links import ACK_LINK
from alerts.store import Notification

_SMS_MAX = 1_600  # Twilio's limit for one message body
_VOICE = {
    "ja": ("ja-JP", "対応できる場合は、1 を押してください。", "応答がありませんでした。"),
    "en": ("en-US", "If you can take care of it, press 1.", "No answer was recorded."),
}


class PhoneChannel:
    def __init__(self, config: PhoneConfig) -> None:
        token = Path(config.auth_token_file).read_text(encoding="utf-8").strip()
        self._client = Client(config.account_sid, token)
        self._client.api.base_url = config.api_url.rstrip("/")
        self._from = config.from_number

    def deliver(self, note: Notification) -> None:
        """An ``sms://+81…`` or ``voice://+81…`` notification; DeliveryError says why not."""
        to = note.url.split("://", 1)[1]
        try:
            if note.channel == "voice":
                self._client.calls.create(to=to, from_=self._from, twiml=call_twiml(note))
            else:
                self._client.messages.create(to=to, from_=self._from, body=sms_text(note))
        except TwilioRestException as exc:
            retry = 60.0 if exc.status == 429 else None
            raise DeliveryError(note.channel, f"Twilio {exc.status} ({exc.code}): {exc.msg}",
                                retry_after_s=retry) from None  # fmt: skip
        except (TwilioException, OSError) as exc:
            raise DeliveryError(note.channel, f"Twilio unreachable: {exc}") from None


def sms_text(note: Notification) -> str:
    """The subject and the body with its lines, cut to what one SMS may carry."""
    text = f"{note.subject}\n{note.body}"
    return text if len(text) <= _SMS_MAX else text[: _SMS_MAX - 1] + "…"


def call_twiml(note: Notification) -> str:
    """What the call says: the alert without its link, then press 1 (posted to the
    acknowledgement link) to acknowledge."""
    voice, press, no_answer = _VOICE["en" if note.language == "en" else "ja"]
    link = ACK_LINK.search(note.body)
    spoken = " ".join(
        line.strip() for line in [note.subject, *ACK_LINK.sub("", note.body).splitlines()]
        if line.strip() and not line.strip().startswith("http")
    )  # fmt: skip
    say = f"<Say language={quoteattr(voice)}>{escape(spoken)}</Say>"
    if link is None:  # a resolution or a summary: nothing to acknowledge
        return f"<Response>{say}</Response>"
    ask = f"<Say language={quoteattr(voice)}>{escape(press)}</Say>"
    gather = (
        f'<Gather numDigits="1" timeout="10" method="POST" action={quoteattr(link.group())}>'
        f"{say}{ask}</Gather>"
    )
    return (
        f"<Response>{gather}<Say language={quoteattr(voice)}>{escape(no_answer)}</Say></Response>"
    )


def phone_answer(acknowledged: bool, language: str = "ja") -> str:
    """TwiML for Twilio after the key press: whether it acknowledged."""
    voice = _VOICE["en" if language == "en" else "ja"][0]
    if language == "en":
        words = (
            "Thank you. The others will no longer be called."
            if acknowledged
            else ("Nothing was recorded.")
        )
    else:
        words = (
            "ありがとうございます。ほかの方への連絡は止まります。"
            if acknowledged
            else ("応答は記録されませんでした。")
        )
    return f"<Response><Say language={quoteattr(voice)}>{escape(words)}</Say></Response>"
