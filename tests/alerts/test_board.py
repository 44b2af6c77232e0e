"""What the dashboards learn about alerts: each change once, open alerts hourly, and a
restart that re-sends what it may have missed."""

from __future__ import annotations

from alerts.board import REFRESH_EVERY_MS, AlertBoard
from alerts.notifier import Notifier
from alerts.state import Transition
from tests.alerts.test_engine import jst
from tests.alerts.test_notifier import MIN, fire
from wire import AlertState


def resolve(notifier: Notifier, rule: str, at: int) -> None:
    rule_obj = notifier.rules[rule]
    key = f"{rule}/home-a001/"
    notifier.handle(Transition(key, rule_obj, "resolve", "home-a001", "", "", at, "urgent"), at)  # type: ignore[arg-type]


def test_each_change_is_published_once_and_open_alerts_again_hourly(
    notifier: Notifier,
) -> None:
    sent: list[AlertState] = []
    board = AlertBoard(notifier.rules, sent.append)
    t0 = jst("2026-01-15 09:00")
    assert board.update(notifier.store, t0) == 0
    fire(notifier, "inactivity-12h", t0)
    board.update(notifier.store, t0 + 1)
    assert [(s.rule, s.state, s.site) for s in sent] == [("inactivity-12h", "firing", "home-a001")]
    assert sent[0].title == notifier.rules["inactivity-12h"].title.ja
    assert board.update(notifier.store, t0 + 2) == 0  # nothing changed, nothing sent

    notifier.acknowledge(notifier.store.alerts()[0], "知床 ケア", t0 + 5 * MIN)
    board.update(notifier.store, t0 + 5 * MIN)
    assert sent[-1].state == "acknowledged"
    assert sent[-1].opened_ts == t0

    board.update(notifier.store, t0 + REFRESH_EVERY_MS)
    assert [s.state for s in sent] == ["firing", "acknowledged", "acknowledged"]
    assert sent[-1].ts == t0 + REFRESH_EVERY_MS

    resolve(notifier, "inactivity-12h", t0 + 70 * MIN)
    board.update(notifier.store, t0 + 70 * MIN)
    assert sent[-1].state == "resolved"
    board.update(notifier.store, t0 + 3 * REFRESH_EVERY_MS)
    assert sent[-1].state == "resolved", "a resolved alert is not refreshed"


def test_a_restarted_service_says_again_what_is_open_and_what_was_just_resolved(
    notifier: Notifier,
) -> None:
    t0 = jst("2026-01-15 09:00")
    fire(notifier, "inactivity-12h", t0)
    fire(notifier, "room-very-cold", t0)
    resolve(notifier, "room-very-cold", t0 + 10 * MIN)
    fire(notifier, "room-cold", t0 - 3 * 86_400_000)
    resolve(notifier, "room-cold", t0 - 2 * 86_400_000)
    sent: list[AlertState] = []
    AlertBoard(notifier.rules, sent.append).update(notifier.store, t0 + 20 * MIN)
    assert sorted((s.rule, s.state) for s in sent) == [
        ("inactivity-12h", "firing"),
        ("room-very-cold", "resolved"),
    ]
