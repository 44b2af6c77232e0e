"""The daily message a contact asked for (``daily: "HH:MM"`` in the residents file):
at that local time, how the day went so far — the first movement, the rooms'
temperatures, the day's alerts — as Japanese watch-over services send it, or a gentle
notice of what was unusual. Once per contact and day, even across restarts (its
notification key holds the date)."""

from __future__ import annotations

from alerts import schedule
from alerts.messages import DayView, compose_daily
from alerts.routing import Router, Signer
from alerts.rules import Rule
from alerts.state import EngineState
from alerts.store import Notification, Store
from common.labels import Lang


def enqueue_daily(
    now_ms: int,
    router: Router,
    store: Store,
    state: EngineState,
    rules: dict[str, Rule],
    *,
    signer: Signer | None = None,
) -> int:
    """Queue each daily message that is due and not yet queued today; how many."""
    queued = 0
    for resident in router.directory.residents.values():
        timezone = router.timezone(resident.site)
        local = schedule.local(now_ms, timezone)
        for contact in resident.contacts:
            if contact.daily is None or local.strftime("%H:%M") < contact.daily:
                continue
            hour, minute = (int(part) for part in contact.daily.split(":"))
            due = int(local.replace(hour=hour, minute=minute, second=0).timestamp() * 1000)
            if state.watch_started > due:
                continue  # not watching at that hour today: nothing true to say
            contact_id = router.directory.contact_id(contact)
            recipients = router.contact_recipients(contact, contact_id)
            keys = [f"daily|{contact_id}|{local.date().isoformat()}|{r.url}" for r in recipients]
            if not keys or store.has_notification(keys[0]):
                continue  # unreachable, or told today already
            lang: Lang = "en" if contact.language == "en" else "ja"
            day = day_view(resident.site, lang, now_ms=now_ms, router=router, store=store,
                            state=state, rules=rules)  # fmt: skip
            link = signer.family_link(contact_id, now_ms) if signer else ""
            subject, body = compose_daily(lang, day, link)
            for recipient, key in zip(recipients, keys, strict=True):
                queued += store.enqueue(Notification(
                    0, key, 0, recipient.name, lang, recipient.channel, recipient.url,
                    subject, body, "pending", 0, now_ms, "", None, "daily", "info",
                    contact_id, "daily", resident.site,
                ))  # fmt: skip
    return queued


def day_view(site: str, lang: Lang, *, now_ms: int, router: Router, store: Store,
              state: EngineState, rules: dict[str, Rule]) -> DayView:  # fmt: skip
    timezone = router.timezone(site)
    midnight = schedule.local(now_ms, timezone).replace(hour=0, minute=0, second=0, microsecond=0)
    since = int(midnight.timestamp() * 1000)
    first = state.day_first.get(site)
    titles = [
        str(getattr(rules[row.rule_id].title, lang)) if row.rule_id in rules else row.rule_id
        for row in store.alerts(open_only=False)
        if row.site == site and row.fired_at >= since
        and (row.rule_id not in rules or rules[row.rule_id].audience != "it")
    ]  # fmt: skip
    devices = (
        [d.id for d in router.inventory.sites[site].devices]
        if site in router.inventory.sites
        else []
    )
    return DayView(
        place=router.place(site, lang),
        unobserved=any(device in state.offline for device in devices),
        now_ms=now_ms,
        timezone=timezone,
        first_activity=first if first is not None and first >= since else None,
        temperatures=dict(state.temperatures.get(site, {})),
        alert_titles=titles,
    )
