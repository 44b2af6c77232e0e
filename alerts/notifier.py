"""From alert transitions to alerts on disk and notifications in the outbox.

Fire: the first step of the escalation chain is notified. Every tick, an alert nobody
acknowledged moves to the next step when its ``after_min`` has passed, and repeats to
the last step every ``repeat_min``. Acknowledging stops all of that; resolving tells
everyone who was told. Info and warnings wait for the end of quiet hours.
"""

from __future__ import annotations

import hashlib
import logging

from alerts import schedule
from alerts.config import AlertsConfig
from alerts.messages import Kind, Lang, compose
from alerts.routing import Recipient, Router, Signer
from alerts.rules import SEVERITY_ORDER, Event, Rule
from alerts.state import Transition
from alerts.store import AlertRow, Notification, Store

log = logging.getLogger(__name__)
_MIN = 60_000


class Notifier:
    def __init__(
        self,
        store: Store,
        config: AlertsConfig,
        router: Router,
        rules: dict[str, Rule],
        signer: Signer,
    ) -> None:
        self.store = store
        self.config = config
        self.router = router
        self.rules = rules
        self.signer = signer

    def handle(self, transition: Transition, now_ms: int) -> None:
        row = self.store.open_alert(transition.key)
        if transition.change == "fire":
            if row is None:  # a restart may replay a fire that is already recorded
                self._fire(transition, now_ms)
        elif row is not None and transition.change == "escalate":
            self.store.update_alert(row, severity=transition.severity)
            self._notify(row, "escalate", row.step, now_ms)
        elif row is not None and transition.change == "resolve":
            self.store.update_alert(row, state="resolved", resolved_at=transition.at_ms)
            self._tell_resolved(row, now_ms)

    def tick(self, now_ms: int) -> None:
        """Escalate and repeat what nobody acknowledged."""
        for row in self.store.alerts():
            if row.state != "firing":
                continue
            chain = self.router.chain(self.rules[row.rule_id], row.site)
            next_step = row.step + 1
            opened = row.opened_at or row.fired_at
            if next_step < len(chain) and now_ms - opened >= chain[next_step].after_min * _MIN:
                self.store.update_alert(row, step=next_step, notified_at=now_ms)
                self._notify(row, "escalate", next_step, now_ms)
            elif now_ms - row.notified_at >= self.config.repeat_min * _MIN:
                self.store.update_alert(row, notified_at=now_ms)
                self._notify(row, "repeat", row.step, now_ms)

    def acknowledge(self, row: AlertRow, who: str, now_ms: int) -> None:
        if row.state != "firing":
            return
        closes = isinstance(self.rules.get(row.rule_id), Event)  # a press has no "resolved"
        self.store.update_alert(
            row,
            state="resolved" if closes else "acknowledged",
            acked_at=now_ms,
            acked_by=who,
            resolved_at=now_ms if closes else None,
        )
        for note in self.store.notifications(row.id):
            if note.state == "pending" and "resolve" not in note.subject:
                self.store.mark(note, state="cancelled", last_error=f"acknowledged by {who}")
        log.info("alert %d (%s at %s) acknowledged by %s", row.id, row.rule_id, row.site, who)

    # -- plumbing ------------------------------------------------------------------------

    def _fire(self, transition: Transition, now_ms: int) -> None:
        value = "" if transition.value is None else str(transition.value)
        row = AlertRow(
            0, transition.key, transition.rule.id, transition.site, transition.device,
            transition.sensor, transition.severity, "firing", transition.at_ms, value,
            transition.late, 0, now_ms, None, "", None, now_ms,
        )  # fmt: skip
        self.store.add_alert(row)
        log.warning("alert %d: %s at %s (%s)", row.id, row.rule_id, row.site, row.severity)
        self._notify(row, "fire", 0, now_ms)

    def _notify(self, row: AlertRow, kind: Kind, step: int, now_ms: int) -> None:
        rule = self.rules[row.rule_id]
        silence = self.store.silenced(row.site, row.rule_id, now_ms)
        if silence is not None and row.severity != "life-safety":
            log.info("alert %d not notified: silenced (%s)", row.id, silence)
            return
        chain = self.router.chain(rule, row.site)
        step_info = chain[min(step, len(chain) - 1)]
        recipients = self.router.recipients(rule, row.site, step_info)
        if not recipients:
            log.error("alert %d: nobody to tell at step %d (%s)", row.id, step, step_info.role)
        send_at = self._not_before(rule, row.severity, now_ms)
        attempt = int(now_ms // (self.config.repeat_min * _MIN)) if kind == "repeat" else step
        for recipient in recipients:
            subject, body = compose(
                recipient.language, kind, rule, self.router.place(row.site, recipient.language),
                severity=row.severity, at_ms=row.fired_at, timezone=self.router.timezone(row.site),
                ack_url=self.signer.link(row.id, recipient.name), value=row.value, late=row.late,
            )  # fmt: skip
            self._enqueue(row, recipient, (kind, attempt), (subject, body), send_at=send_at)

    def _tell_resolved(self, row: AlertRow, now_ms: int) -> None:
        rule = self.rules[row.rule_id]
        told = {
            (n.recipient, n.url, n.language)
            for n in self.store.notifications(row.id)
            if n.state == "sent"
        }
        for name, url, language in sorted(told):
            lang: Lang = "en" if language == "en" else "ja"
            subject, body = compose(
                lang, "resolve", rule, self.router.place(row.site, lang), severity=row.severity,
                at_ms=row.resolved_at or now_ms, timezone=self.router.timezone(row.site),
            )  # fmt: skip
            self._enqueue(
                row, Recipient(name, lang, url), ("resolve", 0), (subject, body), send_at=now_ms
            )

    def _enqueue(
        self,
        row: AlertRow,
        recipient: Recipient,
        what: tuple[str, int],
        text: tuple[str, str],
        *,
        send_at: int,
    ) -> None:
        subject, body = text
        identity = f"{row.id}|{what[0]}|{what[1]}|{recipient.name}|{recipient.url}"
        dedup = hashlib.sha256(identity.encode()).hexdigest()[:32]
        note = Notification(
            0, dedup, row.id, recipient.name, recipient.language, recipient.channel,
            recipient.url, subject, body,
            "pending", 0, send_at, "", None,
        )  # fmt: skip
        self.store.enqueue(note)

    def _not_before(self, rule: Rule, severity: str, now_ms: int) -> int:
        quiet = self.config.quiet_hours
        if quiet is None or rule.audience == "it" or SEVERITY_ORDER[severity] >= 2:
            return now_ms
        zone = self.router.inventory.city.timezone
        if not schedule.in_window(now_ms, quiet, zone):
            return now_ms
        end = schedule.at_local(now_ms, quiet.split("-")[1], zone)
        return end if end > now_ms else end + 24 * 3_600_000
