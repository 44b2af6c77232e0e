"""From alert transitions to alerts on disk and notifications in the outbox.

Fire: the first step of the escalation chain is told. Every tick, an alert nobody
acknowledged moves to the next step when its ``after_min`` has passed, and is repeated
to the step it reached, less and less often (IT at most hourly, info at most daily) and
at most ``max_repeats`` times. Acknowledging stops all of that; resolving tells
everyone who was told.

Quiet hours hold info and warnings for caregivers and facility staff (never urgent or
life-safety, never IT). An alert held and resolved before its release is not sent as an
alert: it becomes a line of the recipient's one morning summary. The escalation clock of
a held alert starts at its release, so releasing quiet hours never bursts escalations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

import msgspec

from alerts import schedule
from alerts.config import AlertsConfig
from alerts.kinds.device_offline import NEVER_SEEN
from alerts.messages import AlertView, Kind, compose, compose_summary, summary_line
from alerts.routing import Recipient, Router, Signer
from alerts.rules import SEVERITY_ORDER, Event, Rule, Threshold
from alerts.state import Detail, Transition
from alerts.store import AlertRow, NightEntry, Notification, Store
from common.city.model import EscalationStep
from common.labels import Lang

log = logging.getLogger(__name__)
_MIN = 60_000
_DAY_MIN = 24 * 60
_IT_REPEAT_MIN = 60
# Alerts told once and never repeated (IT hears once that a home is being installed).
_NO_REPEAT = frozenset({NEVER_SEEN, "service-event"})
GROUP_WAIT_MS = 60_000  # the default of group_wait_s
_detail_decoder = msgspec.json.Decoder(Detail)


def condition_family(rule: Rule | None) -> tuple[str, str] | None:
    """Threshold rules on one kind of reading in one direction (room-cold and
    room-very-cold; the hot room and the heat index) describe one condition."""
    if not isinstance(rule, Threshold) or rule.equals is not None:
        return None
    return rule.quantity.split(".")[0], "below" if rule.below is not None else "above"


def encode_detail(detail: Detail | None) -> str:
    return msgspec.json.encode(detail).decode() if detail is not None else ""


def decode_detail(text: str) -> Detail | None:
    return _detail_decoder.decode(text) if text else None


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

    # -- inputs --------------------------------------------------------------------------

    def handle(self, transition: Transition, now_ms: int) -> None:
        row = self.store.open_alert(transition.key)
        if transition.change == "fire":
            if row is None:  # a restart may replay a fire that is already recorded
                self._fire(transition, now_ms)
        elif transition.change == "note":
            self._note(transition, now_ms)
        elif row is None:
            return
        elif transition.change == "update":
            self._update(row, transition, now_ms)
        elif transition.change == "escalate":
            self._worse(row, transition, now_ms)
        elif transition.change == "resolve":
            self._resolve(row, transition, now_ms)

    def tick(self, now_ms: int) -> None:
        """Escalate and repeat what nobody acknowledged; release morning summaries."""
        for row in self.store.alerts():
            rule = self.rules.get(row.rule_id)
            if row.state != "firing" or rule is None:
                continue
            if self._holds(rule, row.severity, now_ms, row.site):
                self._hold_clock(rule, row, now_ms)
                continue
            chain = self.router.chain(rule, row.site)
            next_step = row.step + 1
            opened = row.opened_at or row.fired_at
            if next_step < len(chain) and now_ms - opened >= chain[next_step].after_min * _MIN:
                self.store.update_alert(row, step=next_step, notified_at=now_ms)
                self._notify(row, "escalate", next_step, now_ms)
            elif self._repeat_due(rule, row, now_ms):
                self.store.update_alert(row, notified_at=now_ms, repeats=row.repeats + 1)
                self._notify(row, "repeat", row.step, now_ms)
        self._release_summaries(now_ms)

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
        self._cancel_pending(row, f"acknowledged by {who}")
        log.info("alert %d (%s at %s) acknowledged by %s", row.id, row.rule_id, row.site, who)

    def close_by_hand(self, row: AlertRow, who: str, reason: str, now_ms: int) -> None:
        """Closed on the acknowledgement page with a reason; everyone told hears it."""
        self.store.update_alert(row, state="resolved", resolved_at=now_ms, closed_reason=reason)
        self._cancel_pending(row, f"closed by {who}: {reason}")
        log.info("alert %d (%s at %s) closed by %s: %s", row.id, row.rule_id, row.site, who,
                 reason)  # fmt: skip
        self._tell_resolved(row, None, now_ms)

    def close_removed(self, row: AlertRow, now_ms: int) -> None:
        """Its rule was removed or switched off: the alert closes, nobody is told."""
        self.store.update_alert(row, state="resolved", resolved_at=now_ms, acked_by="rule removed")
        self._cancel_pending(row, "rule removed")
        log.warning("alert %d closed: rule %s removed or disabled", row.id, row.rule_id)

    # -- transitions ---------------------------------------------------------------------

    def _fire(self, transition: Transition, now_ms: int) -> None:
        value = "" if transition.value is None else str(transition.value)
        release = self._not_before(transition.rule, transition.severity, transition.site, now_ms)
        if isinstance(transition.rule, Threshold):
            # Wait a moment for the home's other rooms: one message names them all.
            release = max(release, now_ms + int(self.config.group_wait_s * 1000))
        row = AlertRow(
            0, transition.key, transition.rule.id, transition.site, transition.device,
            transition.sensor, transition.severity, "firing", transition.at_ms, value,
            transition.late, 0, release, None, "", None, release,
            encode_detail(transition.detail),
        )  # fmt: skip
        self.store.add_alert(row)
        log.info("alert %d: %s at %s (%s)", row.id, row.rule_id, row.site, row.severity)
        stronger = self._inhibitor(row)
        if stronger is not None:
            # The same condition is already open at a higher severity: recorded, not told.
            self.store.update_alert(row, state="acknowledged", acked_by=f"({stronger.rule_id})")
            return
        self._supersede(row, now_ms)
        self._notify(row, "fire", 0, now_ms, send_at=release)

    def _inhibitor(self, row: AlertRow) -> AlertRow | None:
        """An open alert of the same condition family at this site, more severe."""
        family = condition_family(self.rules.get(row.rule_id))
        for other in self.store.alerts():
            if other.id == row.id or other.site != row.site or other.state != "firing":
                continue
            same = family is not None and condition_family(self.rules.get(other.rule_id)) == family
            if same and SEVERITY_ORDER[other.severity] > SEVERITY_ORDER[row.severity]:
                return other
        return None

    def _supersede(self, row: AlertRow, now_ms: int) -> None:
        """Less severe open alerts of the same condition stop escalating and repeating."""
        family = condition_family(self.rules.get(row.rule_id))
        if family is None:
            return
        for other in self.store.alerts():
            if (other.site == row.site and other.state == "firing" and other.id != row.id
                    and condition_family(self.rules.get(other.rule_id)) == family
                    and SEVERITY_ORDER[other.severity] < SEVERITY_ORDER[row.severity]):  # fmt: skip
                self.store.update_alert(other, state="acknowledged", acked_at=now_ms,
                                        acked_by=f"({row.rule_id})")  # fmt: skip
                self._cancel_pending(other, f"superseded by {row.rule_id}")

    def _worse(self, row: AlertRow, transition: Transition, now_ms: int) -> None:
        """The situation got worse (a night door, then the tag gone)."""
        detail = encode_detail(transition.detail) or row.detail
        self.store.update_alert(row, severity=transition.severity, detail=detail)
        if self._unheard(row, now_ms):
            # Nobody was told yet: the first message anyone gets tells the whole story.
            self._cancel_pending(row, "superseded: got worse before delivery")
            rule = self.rules[row.rule_id]
            release = self._not_before(rule, row.severity, row.site, now_ms)
            self.store.update_alert(row, opened_at=release, notified_at=release)
            self._notify(row, "fire", row.step, now_ms, send_at=release)
        else:
            self._notify(row, "worse", row.step, now_ms)

    def _update(self, row: AlertRow, transition: Transition, now_ms: int) -> None:
        """More rooms joined (or left) an open alert: what it says changes; if nobody
        was told yet, the held message is written again to say it all."""
        self.store.update_alert(row, detail=encode_detail(transition.detail))
        if self._unheard(row, now_ms) and self._pending(row):
            release = min(n.next_at for n in self._pending(row))
            self._cancel_pending(row, "superseded: more to tell before delivery")
            self._notify(row, "fire", row.step, now_ms, send_at=release)

    def _resolve(self, row: AlertRow, transition: Transition, now_ms: int) -> None:
        self.store.update_alert(row, state="resolved", resolved_at=transition.at_ms)
        held = [n for n in self._pending(row) if n.next_at > now_ms and n.kind != "resolved"]
        self._cancel_pending(row, "resolved before delivery")
        if held:
            self._log_for_summary(row, held, transition.detail)
        self._tell_resolved(row, transition.detail, now_ms)

    def _note(self, transition: Transition, now_ms: int) -> None:
        """Something for the morning summary only (a night door, then motion inside)."""
        rule = transition.rule
        if not self._holds(rule, transition.severity, now_ms, transition.site):
            return
        release = self._not_before(rule, transition.severity, transition.site, now_ms)
        chain = self.router.chain(rule, transition.site)
        lines = {
            "ja": summary_line(self._view(rule, transition.site, "ja", transition), "ja"),
            "en": summary_line(self._view(rule, transition.site, "en", transition), "en"),
        }
        for recipient in self._first_channel(self.router.recipients(rule, transition.site,
                                                                    chain[0])):  # fmt: skip
            self.store.log_night(NightEntry(
                0, recipient.contact, recipient.name, recipient.language, recipient.url,
                rule.id, transition.site, transition.at_ms, release, lines[recipient.language],
            ))  # fmt: skip

    # -- notifications -------------------------------------------------------------------

    def _notify(
        self, row: AlertRow, kind: Kind, step: int, now_ms: int, *, send_at: int | None = None
    ) -> None:
        rule = self.rules[row.rule_id]
        silence = self.store.silenced(row.site, row.rule_id, now_ms)
        if silence is not None and row.severity != "life-safety":
            log.info("alert %d not notified: silenced (%s)", row.id, silence)
            return
        chain = self.router.chain(rule, row.site)
        step_info = chain[min(step, len(chain) - 1)]
        recipients = self.router.recipients(rule, row.site, step_info)
        if not recipients:
            self._nobody_at(row, kind, step, chain, now_ms=now_ms, send_at=send_at)
            return
        if send_at is None:
            send_at = self._not_before(rule, row.severity, row.site, now_ms)
        attempt = row.repeats if kind == "repeat" else step
        detail = decode_detail(row.detail)
        for recipient in recipients:
            place = self.router.place(row.site, recipient.language,
                                      names=recipient.contact != "it")  # fmt: skip
            view = AlertView(
                rule, place, row.severity, row.fired_at, self.router.timezone(row.site),
                detail, row.late,
            )  # fmt: skip
            ack = self.signer.link(row.id, recipient.name, now_ms)
            text = compose(recipient.language, kind, view, ack_url=ack)
            self._enqueue(row, recipient, (kind, attempt), text, send_at=send_at)

    def _nobody_at(
        self,
        row: AlertRow,
        kind: Kind,
        step: int,
        chain: list[EscalationStep],
        *,
        now_ms: int,
        send_at: int | None,
    ) -> None:
        """A step of the chain reaches nobody on the city's channels (a contact with only
        a phone and no phone channel, nobody in that role): the next step is told at
        once, and IT hears of the gap (pseudonymous: site and role, no names)."""
        role = chain[min(step, len(chain) - 1)].role
        following = step + 1 if step + 1 < len(chain) else None
        log.error("alert %d: nobody to tell at step %d (%s)%s", row.id, step, role,
                  f"; told step {following} at once" if following is not None else "")  # fmt: skip
        if role != "it":
            self._tell_it_nobody(row, step, chain, now_ms)
        if following is not None:
            self.store.update_alert(row, step=following, notified_at=now_ms)
            self._notify(row, kind, following, now_ms, send_at=send_at)

    def _tell_it_nobody(
        self, row: AlertRow, step: int, chain: list[EscalationStep], now_ms: int
    ) -> None:
        role = chain[min(step, len(chain) - 1)].role
        following = step + 1 if step + 1 < len(chain) else None
        then = (
            f"step {following} ({chain[following].role}) was told at once"
            if following is not None
            else "there is no further step: nobody was told"
        )
        subject = f"[civic-iot] alert {row.id} at {row.site}: nobody to tell ({role})"
        body = (
            f"Alert {row.id} ({row.rule_id}) at {row.site}: step {step} ({role}) reaches "
            f"nobody on the city's channels; {then}. Check the residents file "
            "(`civic-iot residents check`) and the alerts service's channels."
        )
        it_step = EscalationStep(role="it", after_min=0)
        for recipient in self.router.recipients(self.rules[row.rule_id], row.site, it_step):
            self._enqueue(row, recipient, ("nobody", step), (subject, body), send_at=now_ms)

    def _tell_resolved(self, row: AlertRow, detail: Detail | None, now_ms: int) -> None:
        rule = self.rules[row.rule_id]
        told = {
            (n.recipient, n.url, n.language, n.contact)
            for n in self.store.notifications(row.id)
            if n.state == "sent"
        }
        for name, url, language, contact in sorted(told):
            lang: Lang = "en" if language == "en" else "ja"
            view = AlertView(
                rule, self.router.place(row.site, lang, names=contact != "it"), row.severity,
                row.resolved_at or now_ms, self.router.timezone(row.site),
                detail or decode_detail(row.detail),
            )  # fmt: skip
            text = compose(lang, "resolve", view)
            recipient = Recipient(name, lang, url, contact)
            self._enqueue(row, recipient, ("resolve", 0), text, send_at=now_ms)

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
        kind = _OUTPUT_KINDS.get(what[0], what[0])
        # The detail is part of it: a held message rewritten with more to tell is new.
        told = f"{what[0]}|{what[1]}|{row.severity}|{row.detail}"
        identity = f"{row.id}|{told}|{recipient.name}|{recipient.url}"
        dedup = hashlib.sha256(identity.encode()).hexdigest()[:32]
        note = Notification(
            0, dedup, row.id, recipient.name, recipient.language, recipient.channel,
            recipient.url, subject, body, "pending", 0, send_at, "", None,
            kind, row.severity, recipient.contact, row.rule_id, row.site,
        )  # fmt: skip
        self.store.enqueue(note)

    def _release_summaries(self, now_ms: int) -> None:
        entries = self.store.night_due(now_ms)
        by_contact: dict[tuple[str, str, str, str], list[NightEntry]] = {}
        for entry in entries:
            by_contact.setdefault((entry.contact, entry.name, entry.language, entry.url),
                                  []).append(entry)  # fmt: skip
        for (contact, name, language, url), mine in by_contact.items():
            lang: Lang = "en" if language == "en" else "ja"
            sites = sorted({e.site for e in mine})
            place = " / ".join(self.router.place(site, lang) for site in sites)
            subject, body = compose_summary(lang, place, [e.line for e in mine])
            recipient = Recipient(name, lang, url, contact)
            identity = f"summary|{contact}|{url}|{mine[0].release_at}"
            self.store.enqueue(Notification(
                0, hashlib.sha256(identity.encode()).hexdigest()[:32], 0, name, lang,
                recipient.channel, url, subject, body, "pending", 0, now_ms, "", None,
                "summary", "info", contact, ",".join(sorted({e.rule_id for e in mine})),
                ",".join(sites),
            ))  # fmt: skip
        self.store.night_done(entries)

    # -- policy --------------------------------------------------------------------------

    def _holds(self, rule: Rule, severity: str, now_ms: int, site: str = "") -> bool:
        """Quiet hours now, for this rule and severity."""
        quiet = self.config.quiet_hours
        if quiet is None or rule.audience == "it" or SEVERITY_ORDER[severity] >= 2:
            return False
        return schedule.in_window(now_ms, quiet, self.router.timezone(site))

    def _not_before(self, rule: Rule, severity: str, site: str, now_ms: int) -> int:
        if not self._holds(rule, severity, now_ms, site):
            return now_ms
        assert self.config.quiet_hours is not None
        zone = self.router.timezone(site)
        end = schedule.at_local(now_ms, self.config.quiet_hours.split("-")[1], zone)
        return end if end > now_ms else end + 24 * 3_600_000

    def _hold_clock(self, rule: Rule, row: AlertRow, now_ms: int) -> None:
        """In quiet hours a held alert's chain waits: at release it stands where it was."""
        release = self._not_before(rule, row.severity, row.site, now_ms)
        chain = self.router.chain(rule, row.site)
        reached = chain[min(row.step, len(chain) - 1)].after_min * _MIN
        opened = max(row.opened_at, release - reached)
        if opened != row.opened_at or row.notified_at < release:
            self.store.update_alert(
                row, opened_at=opened, notified_at=max(row.notified_at, release)
            )

    def _repeat_due(self, rule: Rule, row: AlertRow, now_ms: int) -> bool:
        detail = decode_detail(row.detail)
        if detail is not None and detail.code in _NO_REPEAT:
            return False
        if row.repeats >= self.config.max_repeats:
            return False
        if rule.repeat_min is not None:
            every = rule.repeat_min
        elif row.severity == "info":
            every = _DAY_MIN
        elif rule.audience == "it":
            every = max(_IT_REPEAT_MIN, self.config.repeat_min)
        else:
            every = self.config.repeat_min
        # Each repeat waits twice as long as the one before (30, 60, 120 min...).
        return bool(now_ms - row.notified_at >= every * 2**row.repeats * _MIN)

    # -- plumbing ------------------------------------------------------------------------

    def _pending(self, row: AlertRow) -> list[Notification]:
        return [n for n in self.store.notifications(row.id) if n.state == "pending"]

    def _unheard(self, row: AlertRow, now_ms: int) -> bool:
        """Nobody has been told of this alert, nor will be before ``now_ms``."""
        notes = self.store.notifications(row.id)
        return all(n.state == "cancelled" or (n.state == "pending" and n.next_at > now_ms)
                   for n in notes)  # fmt: skip

    def _cancel_pending(self, row: AlertRow, why: str) -> None:
        for note in self._pending(row):
            if note.kind != "resolved":
                self.store.mark(note, state="cancelled", last_error=why)

    def _log_for_summary(self, row: AlertRow, held: list[Notification], end: Detail | None) -> None:
        rule = self.rules[row.rule_id]
        seen: set[str] = set()
        for note in held:
            if note.contact in seen:
                continue
            seen.add(note.contact)
            lang: Lang = "en" if note.language == "en" else "ja"
            view = AlertView(rule, "", row.severity, row.fired_at, self.router.timezone(row.site),
                             decode_detail(row.detail))  # fmt: skip
            line = summary_line(view, lang)
            if end is not None:
                closing = summary_line(dataclasses.replace(view, detail=end), lang)
                line = f"{line} → {closing}"
            self.store.log_night(NightEntry(
                0, note.contact, note.recipient, lang, note.url, row.rule_id, row.site,
                row.fired_at, note.next_at, line,
            ))  # fmt: skip

    def _view(self, rule: Rule, site: str, lang: Lang, transition: Transition) -> AlertView:
        place, zone = self.router.place(site, lang), self.router.timezone(site)
        return AlertView(rule, place, transition.severity, transition.at_ms, zone,
                         transition.detail)  # fmt: skip

    @staticmethod
    def _first_channel(recipients: list[Recipient]) -> list[Recipient]:
        """One channel per contact: a summary is told once, not once per channel."""
        seen: set[str] = set()
        found = []
        for recipient in recipients:
            if recipient.contact not in seen:
                seen.add(recipient.contact)
                found.append(recipient)
        return found


_OUTPUT_KINDS = {"fire": "firing", "escalate": "escalation", "worse": "escalation",
                 "repeat": "repeat", "resolve": "resolved", "nobody": "nobody-to-tell"}  # fmt: skip
