"""A contact's own page of their resident (``/family/<contact>``, a signed, expiring
link in their daily message): the day so far, alerts waiting, the last 7 days. Only
that contact's resident: an ID no contact has shows nothing."""

from __future__ import annotations

from alerts import schedule
from alerts.ackpage import FamilyView
from alerts.daily import day_view
from alerts.messages import daily_lines
from alerts.routing import Router
from alerts.rules import Rule
from alerts.state import EngineState
from alerts.store import AlertRow, Store
from common.labels import Lang

_STATES = {
    "ja": {"firing": "対応待ち", "acknowledged": "対応中", "resolved": "解消"},
    "en": {"firing": "waiting", "acknowledged": "being taken care of", "resolved": "over"},
}
_WEEK_MS = 7 * 86_400_000


def family_view(contact_id: str, lang: Lang, *, now_ms: int, router: Router, store: Store,
                state: EngineState, rules: dict[str, Rule]) -> FamilyView | None:  # fmt: skip
    site = _site_of(contact_id, router)
    if site is None:
        return None
    day = day_view(site, lang, now_ms=now_ms, router=router, store=store, state=state,
                   rules=rules)  # fmt: skip
    rows = [row for row in store.alerts(open_only=False) if row.site == site
            and (row.rule_id not in rules or rules[row.rule_id].audience != "it")]  # fmt: skip
    words, timezone = _STATES[lang], router.timezone(site)

    def title(row: AlertRow) -> str:
        rule = rules.get(row.rule_id)
        return str(getattr(rule.title, lang)) if rule else row.rule_id

    def when(ts: int) -> str:
        return schedule.local(ts, timezone).strftime("%m-%d %H:%M")

    waiting = [
        f"{title(r)} — {words[r.state]}" for r in rows if r.state in ("firing", "acknowledged")
    ]
    recent = [f"{when(r.fired_at)} {title(r)}（{words.get(r.state, r.state)}）"
              for r in reversed(rows) if r.fired_at >= now_ms - _WEEK_MS]  # fmt: skip
    return FamilyView(router.place(site, lang), daily_lines(lang, day), waiting, recent)


def _site_of(contact_id: str, router: Router) -> str | None:
    directory = router.directory
    for resident in directory.residents.values():
        for contact in resident.contacts:
            if directory.contact_id(contact) == contact_id:
                return resident.site
    return None
