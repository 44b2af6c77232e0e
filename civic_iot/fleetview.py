"""How `civic-iot fleet show` prints a device, in the city's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.fleet import DeviceView

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
