"""The default rules on simulated daily life: every injected incident is caught within
its rule's deadline, ordinary days raise at most 0.5 false alerts per resident-month,
and an outage never alarms a family."""

from alerts.simulate import INCIDENTS, simulate


def test_default_rules_catch_every_incident_in_time_without_false_alerts() -> None:
    results = simulate(residents=4, days=28, seed=7)
    for kind in INCIDENTS:
        caught, injected, _ = results.detection(kind)
        assert (kind, caught) == (kind, injected) and injected == 4
    assert len(results.false_alerts) / results.resident_months <= 0.5, results.false_alerts
    assert results.outage_alerts == []
