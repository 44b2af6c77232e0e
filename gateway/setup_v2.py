"""Set-up through the v2 API: one bucket per zone with its raw retention, and one for
its hourly roll-up.

A server without the buckets API (VictoriaMetrics serves only the v2 write endpoint)
keeps retention in its own flags (``-retentionPeriod``); set-up says so and goes on.
Roll-up tasks (Flux) are not created yet: on InfluxDB 2 an admin adds them.
"""

from __future__ import annotations

from influxdb_client.client.bucket_api import BucketsApi
from influxdb_client.domain.bucket_retention_rules import BucketRetentionRules
from influxdb_client.rest import ApiException

from gateway.errors import WriteError
from gateway.retention import ROLLUP, ZonePlan, days_text

_NO_BUCKETS_API = (400, 404, 405)


def set_up(buckets: BucketsApi, org: str, url: str, zones: list[ZonePlan]) -> list[str]:
    try:
        buckets.find_bucket_by_name(zones[0].database)  # type: ignore[no-untyped-call]
    except ApiException as exc:
        if exc.status in _NO_BUCKETS_API:
            return [
                f"{url} has no buckets API (VictoriaMetrics?): retention is the server's "
                "-retentionPeriod flag; nothing to create"
            ]
        raise _error(zones[0].database, exc) from None
    report = []
    for zone in zones:
        raw = _bucket(buckets, org, zone.database, zone.raw_days)
        rollup = _bucket(buckets, org, f"{zone.database}_{ROLLUP}", zone.rollup_days)
        report.append(
            f"{zone.database}: raw kept {days_text(zone.raw_days)} ({raw}), hourly roll-up "
            f"bucket kept {days_text(zone.rollup_days)} ({rollup})"
        )
    return report


def _bucket(buckets: BucketsApi, org: str, name: str, days: int) -> str:
    rule = BucketRetentionRules(type="expire", every_seconds=days * 86_400)  # type: ignore[no-untyped-call]
    rules = [rule] if days else []
    try:
        bucket = buckets.find_bucket_by_name(name)  # type: ignore[no-untyped-call]
        if bucket is None:
            buckets.create_bucket(bucket_name=name, retention_rules=rules, org=org)
            return "created"
        current = [r.every_seconds for r in bucket.retention_rules or []]
        if current == [r.every_seconds for r in rules]:
            return "unchanged"
        bucket.retention_rules = rules
        buckets.update_bucket(bucket)
        return "changed"
    except ApiException as exc:
        raise _error(name, exc) from None


def _error(name: str, exc: ApiException) -> WriteError:
    status = int(exc.status or 0)
    return WriteError(
        name, f"HTTP {status}: {str(exc.body or exc.reason)[:300]}", retryable=status >= 500
    )
