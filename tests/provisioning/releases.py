"""Releases for the tests: a key pair, releases built for this machine, served on loopback."""

from __future__ import annotations

import functools
import http.server
import platform
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from civic_iot.cli import main
from common import __version__
from provisioning.release import (
    PUBLIC_KEY,
    REPO_ROOT,
    BuildRequest,
    build,
    copy_checkout,
    ensure_key,
)

GOOD, BROKEN = "99.0.1", "99.0.2"


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


@dataclass(frozen=True)
class CityReleases:
    """The city's key and release directory: this checkout's release, a later good one
    and a later one whose agent dies at start."""

    state: Path
    out: Path
    base: str = __version__
    good: str = GOOD
    broken: str = BROKEN

    @property
    def key(self) -> Path:
        return public_key(self.state)

    def only(self, into: Path, *versions: str) -> Path:
        """A release directory holding only ``versions`` (the last one is ``latest``)."""
        for version in versions:
            shutil.copytree(self.out / version, into / version)
        (into / "latest").write_text(versions[-1] + "\n", encoding="utf-8")
        return into


def broken_checkout(into: Path) -> Path:
    """civic-iot whose agent dies at start, as a bad release would."""
    agent = copy_checkout(REPO_ROOT, into) / "edge" / "agent.py"
    agent.write_text(agent.read_text() + '\nraise SystemExit("this release is broken")\n')
    return into


def build_city_releases(root: Path) -> CityReleases:
    releases = CityReleases(root / "state", root / "releases")
    build_release(releases.state, releases.out)
    base = releases.out / releases.base
    for version, source in ((GOOD, REPO_ROOT), (BROKEN, broken_checkout(root / "broken"))):
        build(BuildRequest(out=releases.out, key_dir=releases.state / "release",
                           machines=(platform.machine(),), version=version, source=source,
                           dependencies_from=base))  # fmt: skip
    return releases
