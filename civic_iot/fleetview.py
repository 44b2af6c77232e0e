"""How `civic-iot fleet show` prints a device, in the city's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from civic_iot.terminal import table
from gateway.fleet import DeviceView, GroupRow

TOKYO = ZoneInfo("Asia/Tokyo")


def local_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=TOKYO).strftime("%Y-%m-%d %H:%M:%S %Z")


def describe(view: DeviceView) -> str:
    lines = [f"device   {view.device_id}"]
    status = view.status
    if status is None:
        lines.append("status   never seen (no retained status)")
    else:
        since = "since" if status.state == "online" else "at"
        reason = f", {status.reason}" if status.reason else ""
        lines.append(
            f"status   {status.state} {since} {local_time(status.ts)} ({status.agent}{reason})"
        )
    lines.append(f"config   {_config_line(view)}")
    if view.ping is not None and view.ping.ok:
        health = view.ping.result
        lines.append(
            f"agent    up {health['uptime_s']} s, outbox {health['outbox_depth']} messages, "
            f"evicted {health['evicted']}, reconnects {health['reconnects']}"
        )
    elif status is not None and status.state == "online":
        lines.append("agent    did not answer ping")
    return "\n".join(lines)


def _config_line(view: DeviceView) -> str:
    desired, reported = view.desired, view.reported
    running = f"running version {reported.version}" if reported else "no report yet"
    if desired is None:
        return f"no desired config (runs its config file); {running}"
    if reported is None or reported.desired != desired.version:
        return f"desired version {desired.version} NOT YET REPORTED; {running}"
    if reported.state == "rejected":
        return f"desired version {desired.version} REJECTED: {reported.error}; {running}"
    return f"desired version {desired.version} applied ({running})"


def group_table(rows: list[GroupRow]) -> str:
    """One line per device of a group: status, agent, config and release."""
    lines = []
    for row in rows:
        status = row.status.state if row.status else "never seen"
        agent = row.status.agent.rpartition("/")[2] if row.status else ""
        desired = row.desired.version if row.desired else None
        if desired is None:
            config = "config file"
        elif row.reported is None or row.reported.desired != desired:
            config = f"v{desired} not yet reported"
        else:
            config = f"v{desired} {row.reported.state}"
        release = row.release
        shown = "" if release is None else f"{release.running} ({release.state} {release.desired})"
        lines.append([row.device_id, status, agent, config, shown])
    summary = f"{sum(r.status is not None and r.status.state == 'online' for r in rows)} of " \
              f"{len(rows)} online"  # fmt: skip
    return table(["DEVICE", "STATUS", "AGENT", "CONFIG", "RELEASE"], lines) + "\n" + summary
