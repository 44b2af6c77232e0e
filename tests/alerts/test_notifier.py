"""Escalation, repeats, quiet hours and resolved notices, on a real store, in event time."""

from __future__ import annotations

from alerts.notifier import GROUP_WAIT_MS, Notifier
from alerts.state import Transition
from tests.alerts.test_engine import jst

MIN = 60_000


def fire(notifier: Notifier, rule: str, at: int, severity: str = "urgent") -> None:
    key = f"{rule}/home-a001/"
    rule_obj = notifier.rules[rule]
    notifier.handle(Transition(key, rule_obj, "fire", "home-a001", "", "", at, severity), at)  # type: ignore[arg-type]


def told(notifier: Notifier) -> list[tuple[str, str]]:
    return [(n.recipient, n.subject.split("]")[0] + "]") for n in notifier.store.notifications()]


def test_the_chain_climbs_until_someone_acknowledges(notifier: Notifier) -> None:
    t0 = jst("2026-01-15 09:00")
    fire(notifier, "inactivity-12h", t0)
    assert told(notifier) == [("網走 花子", "[緊急]")]
    notifier.tick(t0 + 14 * MIN)
    assert len(told(notifier)) == 1
    notifier.tick(t0 + 15 * MIN)  # city.yaml: care manager after 15 minutes
    assert told(notifier)[-1][0] == "知床 ケア"
    row = notifier.store.alerts()[0]
    notifier.acknowledge(row, "知床 ケア", t0 + 20 * MIN)
    notifier.tick(t0 + 60 * MIN)  # the municipal step (45 min) never comes
    assert [name for name, _ in told(notifier)] == ["網走 花子", "知床 ケア"]
    assert notifier.store.alerts()[0].state == "acknowledged"


def test_nobody_answering_repeats_to_the_last_step(notifier: Notifier) -> None:
    t0 = jst("2026-01-15 09:00")
    fire(notifier, "inactivity-12h", t0)
    for minute in range(1, 120):
        notifier.tick(t0 + minute * MIN)
    names = [name for name, _ in told(notifier)]
    assert names[:3] == ["網走 花子", "知床 ケア", "網走市 介護福祉課（架空）"]
    assert names.count("網走市 介護福祉課（架空）") >= 2  # repeated every 30 min


def test_a_warning_at_night_waits_for_morning_and_an_urgent_one_does_not(
    notifier: Notifier,
) -> None:
    night = jst("2026-01-15 23:30")
    fire(notifier, "room-cold", night, "warning")
    fire(notifier, "room-very-cold", night, "urgent")
    due = {n.subject.split("]")[0]: n.next_at for n in notifier.store.notifications()}
    assert due["[注意"] == jst("2026-01-16 07:00")
    assert due["[緊急"] - night <= GROUP_WAIT_MS  # only the moment that groups rooms


def test_a_resolution_is_told_to_whoever_was_told(notifier: Notifier) -> None:
    t0 = jst("2026-01-15 09:00")
    fire(notifier, "room-very-cold", t0)
    for note in notifier.store.notifications():
        notifier.store.mark(note, state="sent")
    rule = notifier.rules["room-very-cold"]
    key = "room-very-cold/home-a001/"
    notifier.handle(
        Transition(key, rule, "resolve", "home-a001", "", "", t0 + 30 * MIN, "urgent"),
        t0 + 30 * MIN,
    )  # type: ignore[arg-type]
    last = notifier.store.notifications()[-1]
    assert last.subject.startswith("[解消]") and last.recipient == "網走 花子"
    assert "09:30" in last.body


def test_the_same_fire_twice_notifies_once(notifier: Notifier) -> None:
    t0 = jst("2026-01-15 09:00")
    fire(notifier, "inactivity-12h", t0)
    fire(notifier, "inactivity-12h", t0)
    assert len(notifier.store.notifications()) == 1


def test_a_silence_holds_notifications_but_not_a_panic(notifier: Notifier) -> None:
    t0 = jst("2026-01-15 09:00")
    notifier.store.add_silence(
        "home-a001", "", (t0 - MIN, t0 + 60 * MIN), reason="sensor maintenance", by="IT"
    )
    fire(notifier, "inactivity-12h", t0)
    assert notifier.store.notifications() == []
    fire(notifier, "panic", t0, "life-safety")
    assert [n.recipient for n in notifier.store.notifications()] == ["網走 花子"]


def test_escalation_counts_from_when_the_alert_opened_not_when_silence_began(
    notifier: Notifier,
) -> None:
    """An inactivity alert's condition began 12 hours before it fired."""
    now = jst("2026-01-15 21:00")
    key = "inactivity-12h/home-a001/"
    rule = notifier.rules["inactivity-12h"]
    began = now - 12 * 60 * MIN
    notifier.handle(Transition(key, rule, "fire", "home-a001", "", "", began, "urgent"), now)  # type: ignore[arg-type]
    notifier.tick(now + MIN)
    assert [name for name, _ in told(notifier)] == ["網走 花子"]
    notifier.tick(now + 15 * MIN)
    assert [name for name, _ in told(notifier)] == ["網走 花子", "知床 ケア"]
    assert "09:00" in notifier.store.notifications()[0].body  # since when: the silence
