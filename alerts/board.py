"""Alert states for the dashboards: the alerts service publishes each alert's state when
it changes, and every open alert again once an hour, so that a dashboard's "open alerts"
panel (the gateway stores the states) neither misses an alert nor keeps a stale one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

from alerts.rules import Rule
from alerts.store import AlertRow, Store
from wire import AlertState
from wire.payloads import AlertSeverity, AlertStateName

REFRESH_EVERY_MS = 3_600_000
# At start, alerts resolved this recently are published again, in case the service
# stopped between resolving one and saying so.
_LOOK_BACK_MS = 86_400_000


class AlertBoard:
    def __init__(self, rules: Mapping[str, Rule], publish: Callable[[AlertState], None]) -> None:
        self._rules = rules
        self._publish = publish
        self._published: dict[int, str] = {}
        self._next_refresh: int | None = None

    def update(self, store: Store, now: int) -> int:
        """Publish what changed since the last call; returns how many states went out."""
        rows = {row.id: row for row in store.alerts()}
        first = self._next_refresh is None
        refresh = self._next_refresh is None or now >= self._next_refresh
        if refresh:
            self._next_refresh = now + REFRESH_EVERY_MS
        changed = [r for r in rows.values() if refresh or self._published.get(r.id) != r.state]
        for alert_id in set(self._published) - set(rows):
            row = store.alert(alert_id)
            if row is not None:
                changed.append(row)
            del self._published[alert_id]
        if first:
            changed += store.resolved_since(now - _LOOK_BACK_MS)
        for row in changed:
            self._publish(self._state(row, now))
            if row.state != "resolved":
                self._published[row.id] = row.state
        return len(changed)

    def _state(self, row: AlertRow, now: int) -> AlertState:
        rule = self._rules.get(row.rule_id)
        return AlertState(
            schema=1,
            alert_id=row.id,
            rule=row.rule_id,
            title=rule.title.ja if rule else row.rule_id,
            site=row.site,
            severity=cast(AlertSeverity, row.severity),
            state=cast(AlertStateName, row.state),
            opened_ts=row.opened_at or row.fired_at,
            ts=now,
            device=row.device,
        )
