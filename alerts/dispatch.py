"""Delivery: the notification outbox to the channels, through apprise.

One thread per channel kind (mailto, line, json, ...), each with its own database
connection, so a slow or failing channel never holds back another. A failed attempt is
retried with exponential backoff; after ``attempts`` failures the notification is
marked failed and ``on_failed`` tells IT. Every channel a contact has is used at
once, so a contact whose LINE fails still gets the e-mail.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import apprise

from alerts.clock import Clock, SystemClock
from alerts.errors import DeliveryError
from alerts.line import LineChannel
from alerts.mailhtml import mail_html
from alerts.phone import PhoneChannel
from alerts.store import Notification, Store
from common.statelog import StateLog

log = logging.getLogger(__name__)
_MAX_BACKOFF_MS = 15 * 60_000
Failed = Callable[[Store, Notification], None]


def deliver(
    note: Notification, phone: PhoneChannel | None = None, line: LineChannel | None = None
) -> None:
    """Hand one notification to its channel; DeliveryError with the channel's reason.
    SMS and voice go through the phone provider's library, LINE through LINE's SDK,
    everything else apprise."""
    if note.channel in ("sms", "voice"):
        if phone is None:
            raise DeliveryError(note.channel, "no phone provider configured (alerts: phone)")
        phone.deliver(note)
        return
    if note.channel == "line":
        if line is None:
            raise DeliveryError(note.channel, "no LINE channel configured (alerts: line)")
        line.deliver(note)
        return
    app = apprise.Apprise()
    if not app.add(note.url):
        raise DeliveryError(note.channel, "not a usable apprise URL")
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        if note.channel in ("mailto", "mailtos"):
            # Mail: our HTML (headline, a large button, tel: links); apprise adds the
            # plain-text part made from it.
            body, body_format = mail_html(note.body, note.language), apprise.NotifyFormat.HTML
        else:
            # Plain text: apprise keeps the line breaks in text channels.
            body, body_format = note.body, apprise.NotifyFormat.TEXT
        ok = app.notify(title=note.subject, body=body, body_format=body_format)
    if not ok:
        reason = " ".join(str(captured.getvalue()).split())[:300] or "apprise reported failure"
        raise DeliveryError(note.channel, reason)


class Dispatcher:
    def __init__(
        self,
        store_path: Path,
        attempts: int,
        on_failed: Failed,
        clock: Clock | None = None,
        *,
        phone: PhoneChannel | None = None,
        line: LineChannel | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.phone = phone
        self.line = line
        self.store_path = store_path
        self.attempts = attempts
        self.on_failed = on_failed
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._wake: dict[str, threading.Event] = {}
        # poke() comes from the service loop and from delivery threads (failures): two
        # threads for one channel would send the same notification twice.
        self._lock = threading.Lock()
        self._states = StateLog(log)
        # apprise loads its plugins on first use (most of a second): not on the first alert.
        apprise.Apprise().add("json://localhost")

    def poke(self, channels: set[str]) -> None:
        """Something is due on these channels: wake (or start) their threads."""
        with self._lock:
            self._poke(channels)

    def _poke(self, channels: set[str]) -> None:
        for channel in channels:
            if channel not in self._threads:
                self._wake[channel] = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(channel,), name=f"deliver-{channel}", daemon=True
                )
                self._threads[channel] = thread
                thread.start()
            self._wake[channel].set()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads.values())
            for wake in self._wake.values():
                wake.set()
        for thread in threads:
            thread.join(timeout=10)

    def _serve(self, channel: str) -> None:
        store = Store(self.store_path)
        wake = self._wake[channel]
        try:
            while not self._stop.is_set():
                wake.clear()
                due = store.due(channel, self.clock.now_ms())
                for note in due:
                    self._attempt(store, note)
                if not due:
                    wake.wait(1.0)  # retries and quiet-hour releases come due by the clock
        finally:
            store.close()

    def _attempt(self, store: Store, note: Notification) -> None:
        try:
            deliver(note, self.phone, self.line)
        except DeliveryError as exc:
            self._failed_once(store, note, exc)
            return
        store.mark(note, state="sent", sent_at=self.clock.now_ms(), attempts=note.attempts + 1)
        self._states.ok(f"channel {note.channel}")
        log.info("sent %r to %s via %s", note.subject, note.recipient, note.channel)

    def _failed_once(self, store: Store, note: Notification, exc: DeliveryError) -> None:
        attempts = note.attempts + 1
        self._states.failed(f"channel {note.channel}", exc.reason)
        if attempts >= self.attempts:
            store.mark(note, state="failed", attempts=attempts, last_error=exc.reason)
            log.error("gave up on %r to %s: %s", note.subject, note.recipient, exc.reason)
            self.on_failed(store, note)
            return
        backoff = min(5_000 * 2 ** (attempts - 1), _MAX_BACKOFF_MS)
        if exc.retry_after_s is not None:
            backoff = max(backoff, int(exc.retry_after_s * 1000))
        next_at = self.clock.now_ms() + backoff
        store.mark(note, attempts=attempts, next_at=next_at, last_error=exc.reason)


def wait_idle(store: Store, timeout_s: float) -> bool:
    """True once nothing is pending (for the demo and tests that end a run)."""
    deadline = time.monotonic() + timeout_s
    while store.channels_pending():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
