"""Who hears about an alert, through which channel, with which signed link."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from alerts.config import AlertsConfig
from alerts.rules import Rule
from common.city.inventory import Inventory
from common.city.model import EscalationStep
from common.city.residents import Contact, Directory
from common.labels import Lang

# apprise URL scheme -> the kind of channel, as people (and replay output) name it.
_CHANNEL_KINDS = {
    "mailto": "email", "mailtos": "email", "line": "line", "json": "webhook",
    "jsons": "webhook", "form": "webhook", "forms": "webhook", "xml": "webhook",
    "xmls": "webhook", "sms": "sms", "twilio": "sms", "voice": "voice",
}  # fmt: skip


@dataclass(frozen=True)
class Recipient:
    name: str
    language: Lang
    url: str  # apprise URL
    contact: str = "it"  # the contact's ID (residents file), "it" for IT

    @property
    def channel(self) -> str:
        return self.url.split(":", 1)[0]


def channel_kind(scheme: str) -> str:
    """email, line, sms, voice or webhook (other apprise services count as webhooks)."""
    return _CHANNEL_KINDS.get(scheme, "webhook")


class Signer:
    """HMAC-signed acknowledgement links that expire (``valid_days`` after they were
    made); the secret file is created on first use."""

    def __init__(self, path: Path, base_url: str, valid_days: float = 7.0) -> None:
        self.valid_s = int(valid_days * 86_400)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        self._key = path.read_text(encoding="utf-8").strip().encode()
        self.base_url = base_url.rstrip("/")

    def signature(self, alert_id: int, who: str, expires_s: int) -> str:
        message = f"{alert_id}:{who}:{expires_s}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def link(self, alert_id: int, who: str, now_ms: int) -> str:
        expires = now_ms // 1000 + self.valid_s
        query = urllib.parse.urlencode(
            {"who": who, "exp": expires, "sig": self.signature(alert_id, who, expires)}
        )
        return f"{self.base_url}/ack/{alert_id}?{query}"

    def family_link(self, contact_id: str, now_ms: int) -> str:
        """A contact's own page of their resident's day (``/family/<contact>``), signed
        apart from alert links (alert 0 never exists) and expiring like them."""
        expires = now_ms // 1000 + self.valid_s
        query = urllib.parse.urlencode(
            {"exp": expires, "sig": self.signature(0, f"family:{contact_id}", expires)}
        )
        return f"{self.base_url}/family/{urllib.parse.quote(contact_id, safe='')}?{query}"

    def valid_family(self, contact_id: str, expires: str, signature: str) -> bool:
        return self.valid(0, f"family:{contact_id}", expires, signature)

    def valid(self, alert_id: int, who: str, expires: str, signature: str) -> bool:
        """Signed for this alert and person (whether or not it expired)."""
        if not expires.isdigit():
            return False
        return hmac.compare_digest(self.signature(alert_id, who, int(expires)), signature)


class Router:
    def __init__(self, config: AlertsConfig, inventory: Inventory, directory: Directory) -> None:
        self.config = config
        self.inventory = inventory
        self.directory = directory
        self._email = _email_url(config)
        token_file = config.line.token_file if config.line else None
        self._line_token = (
            Path(token_file).read_text(encoding="utf-8").strip() if token_file else ""
        )

    def chain(self, rule: Rule, site_id: str) -> list[EscalationStep]:
        """The escalation steps for the rule's audience at this site (IT: one step)."""
        site = self.inventory.sites.get(site_id)
        if rule.audience == "it" or site is None:
            return [EscalationStep(role="it", after_min=0)]
        return self.inventory.escalation(site)

    def recipients(self, rule: Rule, site_id: str, step: EscalationStep) -> list[Recipient]:
        if step.role == "it":
            lang = self.config.it_language
            return [Recipient("IT", lang, url) for url in self.config.it_channels]
        found = []
        for contact in self.directory.contacts(site_id, step.role):
            found += self._channels(contact, self.directory.contact_id(contact))
        return found

    def place(self, site_id: str, lang: Lang, *, names: bool = True) -> str:
        """The site's name, with its residents' names for those who care for them (never
        for IT, whose channels are not meant for personal data: ``names=False``)."""
        site = self.inventory.sites.get(site_id)
        if site is None:
            return str(getattr(self.inventory.city.name, lang)) + (
                f" ({site_id})" if site_id else ""
            )
        name = str(getattr(site.name, lang))
        residents = [r.name for r in self.directory.residents.values() if r.site == site_id]
        if not residents or not names:
            return f"{name} ({site_id})" if not names else name
        honorific = "さん" if lang == "ja" else ""
        return f"{name} ({', '.join(r + honorific for r in residents)})"

    def timezone(self, site_id: str) -> str:
        site = self.inventory.sites.get(site_id)
        return site.timezone if site else self.inventory.city.timezone

    def contact_recipients(self, contact: Contact, contact_id: str) -> list[Recipient]:
        """Every channel the city can reach this contact on."""
        return self._channels(contact, contact_id)

    def _channels(self, contact: Contact, contact_id: str) -> list[Recipient]:
        found = []
        if contact.email and self._email:
            separator = "&" if "?" in self._email else "?"
            to = urllib.parse.quote(contact.email, safe="@")
            found.append(
                Recipient(
                    contact.name, contact.language, f"{self._email}{separator}to={to}", contact_id
                )
            )
        if contact.line_user_id and self._line_token:
            url = f"line://{contact.line_user_id}"  # the token stays with the channel
            found.append(Recipient(contact.name, contact.language, url, contact_id))
        phone = self.config.phone
        if contact.phone and phone:
            for scheme in ("sms", "voice"):
                if getattr(phone, scheme):
                    url = f"{scheme}://{contact.phone}"
                    found.append(Recipient(contact.name, contact.language, url, contact_id))
        return found

    def configured_channels(self) -> set[str]:
        """Which of a contact's ways (email, line, phone) the city can reach."""
        phone = self.config.phone
        present = {"email": bool(self._email), "line": bool(self._line_token),
                   "phone": bool(phone and (phone.sms or phone.voice))}  # fmt: skip
        return {kind for kind, ok in present.items() if ok}


def _email_url(config: AlertsConfig) -> str:
    if config.email.url_file:
        return Path(config.email.url_file).read_text(encoding="utf-8").strip()
    return config.email.url or ""
