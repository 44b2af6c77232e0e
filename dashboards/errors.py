"""Errors of the dashboards package; each says which Grafana, what was being done and
what Grafana answered."""

from __future__ import annotations


class DashboardsError(Exception):
    pass


class GrafanaError(DashboardsError):
    def __init__(self, grafana: str, doing: str, answer: str, status: int = 0) -> None:
        self.grafana, self.doing, self.answer, self.status = grafana, doing, answer, status
        code = f"HTTP {status}: " if status else ""
        super().__init__(f"Grafana {grafana}: {doing}: {code}{answer}")
