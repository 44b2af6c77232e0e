"""Releases for the tests: a key pair, releases built for this machine, served on loopback."""

from __future__ import annotations

import functools
import http.server
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from civic_iot.cli import main
from provisioning.release import PUBLIC_KEY, ensure_key


def build_release(state: Path, out: Path, version: str | None = None) -> Path:
    """A release of this checkout for this machine, signed with ``state``'s key."""
    ensure_key(state / "release")
    args = ["release", "build", "--state-dir", str(state), "--out", str(out),
            "--machine", platform.machine()]  # fmt: skip
    assert main([*args, "--version", version] if version else args) == 0
    return out


def public_key(state: Path) -> Path:
    return state / "release" / PUBLIC_KEY


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on loopback, as any web server would serve it; its URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
