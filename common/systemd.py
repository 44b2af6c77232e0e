"""sd_notify without a dependency: READY, WATCHDOG and STOPPING for systemd."""

from __future__ import annotations

import os
import socket


def notify(state: str) -> bool:
    """Send ``state`` (e.g. "READY=1") to systemd; False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError:
            return False
    return True


def watchdog_interval_s() -> float | None:
    """Half of systemd's WatchdogSec, how often to say we are alive; None if unwatched."""
    usec = os.environ.get("WATCHDOG_USEC")
    if not usec or os.environ.get("WATCHDOG_PID", str(os.getpid())) != str(os.getpid()):
        return None
    return int(usec) / 2_000_000


class Watchdog:
    """READY once the service serves, WATCHDOG=1 from its loop at half of WatchdogSec
    (a loop stuck that long gets the service restarted), STOPPING on the way out."""

    def __init__(self) -> None:
        self.interval_s = watchdog_interval_s()
        self._next = 0.0

    def ready(self) -> None:
        notify("READY=1")

    def pet(self, now: float) -> None:
        if self.interval_s is not None and now >= self._next:
            self._next = now + self.interval_s
            notify("WATCHDOG=1")

    def stopping(self) -> None:
        notify("STOPPING=1")
