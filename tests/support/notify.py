"""A stand-in for systemd's notify socket: what a service said to it while it ran."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def notifications(command: list[str], scratch: Path, timeout_s: float = 15.0) -> list[str]:
    """Run ``command`` as systemd would with ``WatchdogSec=2``, until it has sent three
    ``WATCHDOG=1`` (or ``timeout_s`` passed); stop it; every note it sent, in order."""
    address = str(scratch / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(timeout_s)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    service = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    notes: list[str] = []
    try:
        deadline = time.monotonic() + timeout_s
        while notes.count("WATCHDOG=1") < 3 and time.monotonic() < deadline:
            notes.append(listener.recv(256).decode())
    finally:
        service.terminate()
        service.wait(30)
    notes.append(listener.recv(256).decode())
    listener.close()
    return notes
