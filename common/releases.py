"""Install a signed agent release: verify, then install into a versioned virtualenv.

A release is a directory (served over HTTPS by any web server, or a path):
``<version>/manifest.json`` (version, each machine's wheels, every file's SHA-256),
``<version>/manifest.json.sig`` (Ed25519 over the manifest's bytes, by the city's
release key), ``<version>/wheels/<machine>/*.whl``, and ``latest`` naming the newest
version. Nothing is installed unless the signature and every hash match.

This module uses the standard library only (signatures are checked with the ``openssl``
command), because it is also the first thing a brand-new Pi runs: the device bundle
carries it as ``install-release.py`` next to ``firstboot.sh``.

Layout on the device (``--prefix``, /opt/civic-iot): ``releases/<version>/`` is a
virtualenv holding that version, ``current`` a symlink to the one in use, swapped
atomically; the previous versions stay for a rollback.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
LATEST = "latest"
PACKAGE = "civic-iot"
COMPLETE = ".complete"  # written last: a release directory without it is half-installed
MAX_FILE_BYTES = 64 * 1024 * 1024
_SAFE_PATH = re.compile(r"^wheels/[A-Za-z0-9_]+/[A-Za-z0-9_.+!-]+\.whl$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*([a-z0-9.+-]*)$")


class ReleaseError(Exception):
    """A release that must not be installed, or could not be; says which and why."""


class UntrustedReleaseError(ReleaseError):
    """Not what the city signed: a signature or a hash that does not match."""


@dataclass(frozen=True)
class Manifest:
    version: str
    machines: dict[str, list[str]]  # machine (uname -m) -> wheel paths
    sha256: dict[str, str]  # path -> hex digest

    @classmethod
    def parse(cls, raw: bytes, where: str) -> Manifest:
        try:
            data = json.loads(raw)
            version, machines, digests = data["version"], data["machines"], data["sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ReleaseError(f"{where}: not a release manifest ({exc})") from None
        if not isinstance(version, str) or not _VERSION.match(version):
            raise ReleaseError(f"{where}: version: expected e.g. 0.2.1, found {version!r}")
        for files in machines.values():
            for path in files:
                if not _SAFE_PATH.match(path) or path not in digests:
                    raise ReleaseError(f"{where}: file {path!r} is not a listed wheel path")
        return cls(version, {str(m): list(f) for m, f in machines.items()}, dict(digests))


def version_key(version: str) -> tuple[int, ...]:
    """Order versions by their numbers (0.10.0 after 0.9.3)."""
    return tuple(int(part) for part in re.findall(r"\d+", version.partition("+")[0]))


class Source:
    """Where releases are read from: an http(s) URL or a directory."""

    def __init__(self, location: str) -> None:
        self.location = location.rstrip("/")
        self.remote = urllib.parse.urlsplit(location).scheme in ("http", "https")

    def read(self, relative: str) -> bytes:
        if not self.remote:
            path = Path(self.location) / relative
            try:
                return path.read_bytes()
            except OSError as exc:
                raise ReleaseError(f"{path}: cannot read: {exc.strerror}") from None
        url = f"{self.location}/{relative}"
        # Loaded here: http.client and email with it are 3 MiB of an idle agent that
        # fetches a release once in months.
        import urllib.request  # noqa: PLC0415

        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - http(s) only
                data: bytes = response.read(MAX_FILE_BYTES + 1)
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"{url}: cannot download: {exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise ReleaseError(f"{url}: larger than {MAX_FILE_BYTES:,} bytes")
        return data

    def latest(self) -> str:
        return self.read(LATEST).decode("utf-8", "replace").strip()


def verify_signature(manifest: bytes, signature: bytes, public_key: Path, where: str) -> None:
    """Ed25519 through the ``openssl`` command (the standard library has none)."""
    with tempfile.TemporaryDirectory() as scratch:
        data, sig = Path(scratch) / MANIFEST, Path(scratch) / SIGNATURE
        data.write_bytes(manifest)
        sig.write_bytes(signature)
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public_key),
                   "-rawin", "-in", str(data), "-sigfile", str(sig)]  # fmt: skip
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise ReleaseError("openssl is not installed: cannot check signatures") from None
    if result.returncode != 0:
        raise UntrustedReleaseError(
            f"{where}: the signature does not match the city's release key {public_key}: "
            "refusing to install"
        )


def fetch_verified(source: Source, version: str, public_key: Path) -> Manifest:
    """The manifest of ``version``, only if the city's key signed it."""
    where = f"{source.location}/{version}/{MANIFEST}"
    raw = source.read(f"{version}/{MANIFEST}")
    verify_signature(raw, source.read(f"{version}/{SIGNATURE}"), public_key, where)
    manifest = Manifest.parse(raw, where)
    if manifest.version != version:
        raise ReleaseError(f"{where}: signed for version {manifest.version}, not {version}")
    return manifest


def download_wheels(source: Source, manifest: Manifest, machine: str, into: Path) -> None:
    """This machine's wheels into ``into``, each checked against its signed hash."""
    files = manifest.machines.get(machine)
    if not files:
        known = ", ".join(sorted(manifest.machines)) or "none"
        raise ReleaseError(f"release {manifest.version} has no wheels for {machine} ({known})")
    into.mkdir(parents=True, exist_ok=True)
    for path in files:
        data = source.read(f"{manifest.version}/{path}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != manifest.sha256[path]:
            raise UntrustedReleaseError(
                f"{source.location}/{manifest.version}/{path}: SHA-256 {digest} is not the "
                f"signed {manifest.sha256[path]}: refusing to install"
            )
        (into / Path(path).name).write_bytes(data)


def installed_version(prefix: Path) -> str | None:
    current = prefix / "current"
    if not current.is_symlink() or not (current / COMPLETE).exists():
        return None
    return current.resolve().name


def install(
    source: Source, version: str, public_key: Path, prefix: Path, *, compile_: bool = True
) -> Path:
    """Install ``version`` into ``prefix/releases/<version>`` (a virtualenv) unless it is
    there complete already; returns that directory. Does not switch ``current``.
    ``compile_``: byte-compile now (the agent's unit cannot write next to its code)."""
    manifest = fetch_verified(source, version, public_key)
    target = prefix / "releases" / manifest.version
    if (target / COMPLETE).exists():
        return target
    shutil.rmtree(target, ignore_errors=True)  # a half-finished earlier try
    with tempfile.TemporaryDirectory(dir=prefix) as scratch:
        wheels = Path(scratch)
        download_wheels(source, manifest, platform.machine(), wheels)
        _run([sys.executable, "-m", "venv", str(target)], "create the virtualenv")
        compiling = [] if compile_ else ["--no-compile"]
        _run([str(target / "bin" / "pip"), "install", "--quiet", "--no-index", *compiling,
              "--find-links", str(wheels), f"{PACKAGE}[edge]=={manifest.version}"],
             "install the wheels")  # fmt: skip
    (target / COMPLETE).write_text(manifest.version + "\n", encoding="utf-8")
    return target


def switch(prefix: Path, target: Path) -> None:
    """Point ``current`` at ``target`` in one step (a rename), never at nothing."""
    link = prefix / f".current.{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(target.relative_to(prefix))
    link.replace(prefix / "current")


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"could not {what}: {result.stderr.strip()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install the newest signed civic-iot release.")
    parser.add_argument("--source", help="release directory: a URL or a path")
    parser.add_argument("--key", type=Path, required=True, help="the city's release public key")
    parser.add_argument("--prefix", type=Path, default=Path("/opt/civic-iot"))
    parser.add_argument("--version", help="this version (default: the source's latest)")
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile")
    parser.add_argument("--apply-request", type=Path, metavar="STATE_DIR",
                        help="carry out the update the agent asked for in STATE_DIR")  # fmt: skip
    parser.add_argument("--restart-command", default="systemctl restart civic-iot-agent.service")
    args = parser.parse_args(argv)
    try:
        if args.apply_request is not None:
            return Updater(args.apply_request, args.prefix, args.key, args.restart_command,
                           compile_=not args.no_compile).apply()  # fmt: skip
        if not args.source:
            parser.error("--source is required")
        return _install_newest(args)
    except ReleaseError as exc:
        print(f"install-release: {exc}", file=sys.stderr)  # noqa: T201
        return 1


def _install_newest(args: argparse.Namespace) -> int:
    source = Source(args.source)
    version = args.version or source.latest()
    running = installed_version(args.prefix)
    if running is not None and version_key(version) < version_key(running):
        raise ReleaseError(f"{version} is older than the installed {running}: not installed")
    if running == version:
        print(f"civic-iot {version} is installed already")  # noqa: T201 - a script
        return 0
    args.prefix.mkdir(parents=True, exist_ok=True)
    target = install(source, version, args.key, args.prefix, compile_=not args.no_compile)
    switch(args.prefix, target)
    print(f"civic-iot {version} installed" + (f" (was {running})" if running else ""))  # noqa: T201
    return 0


# The agent and this installer (run as root by civic-iot-update.service when the request
# appears) talk through files in the agent's state directory.
REQUEST = "update-request.json"  # the agent: please install this
WORKING = "update-working.json"  # the installer: taken, being carried out
PENDING = "update-pending.json"  # the installer: switched, waiting for the agent's word
COMMITTED = "update-committed"  # the new agent: I am healthy (its version)
RESULT = "update-result.json"  # the installer: how the last request ended
POLL_S = 1.0
KEEP_RELEASES = 2  # the one running and the one to roll back to


def read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, object]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    temporary.chmod(0o644)  # the agent (another user) reads what root writes
    temporary.replace(path)


class Updater:
    """Carry out the agent's update request: verify and install beside the running
    release, switch, restart the agent, and switch back unless the new agent says it is
    healthy (connected, collectors running, outbox writable) within the deadline."""

    def __init__(self, state: Path, prefix: Path, key: Path, restart: str, *,
                 compile_: bool = True) -> None:  # fmt: skip
        self.state, self.prefix, self.key = state, prefix, key
        self.restart_command = shlex.split(restart)
        self.compile = compile_

    def apply(self) -> int:
        working = self.state / WORKING
        try:  # taken in one step: the agent sees a request as asked until this one ends
            (self.state / REQUEST).replace(working)
        except FileNotFoundError:
            return 0
        try:
            return self._apply(read_json(working))
        finally:
            working.unlink(missing_ok=True)

    def _apply(self, request: dict[str, object] | None) -> int:
        if request is None:
            return 0
        version, rollout = str(request.get("version", "")), str(request.get("rollout", ""))
        result: dict[str, object] = {"version": version, "rollout": rollout}
        previous = (self.prefix / "current").resolve()
        try:
            target = install(Source(str(request.get("source", ""))), version, self.key,
                             self.prefix, compile_=self.compile)  # fmt: skip
        except ReleaseError as exc:
            stage = "verify" if isinstance(exc, UntrustedReleaseError) else "install"
            write_json(self.state / RESULT, {**result, "ok": False, "stage": stage,
                                             "error": str(exc)})  # fmt: skip
            return 1
        deadline_s = float(str(request.get("deadline_s", 300)))
        return self._try(target, previous, deadline_s, result)

    def _try(self, target: Path, previous: Path, deadline_s: float,
             result: dict[str, object]) -> int:  # fmt: skip
        (self.state / COMMITTED).unlink(missing_ok=True)
        write_json(self.state / PENDING, {"from": previous.name, "to": target.name})
        switch(self.prefix, target)
        self._restart()
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            committed = self.state / COMMITTED
            if committed.exists() and committed.read_text().strip() == target.name:
                write_json(self.state / RESULT, {**result, "ok": True, "from": previous.name})
                (self.state / PENDING).unlink(missing_ok=True)
                self._prune(keep={target.name, previous.name})
                return 0
            time.sleep(POLL_S)
        switch(self.prefix, previous)
        error = (f"{target.name} was not healthy within {deadline_s:.0f} s "
                 f"(connected, collectors running, outbox writable): rolled back to "
                 f"{previous.name}")  # fmt: skip
        write_json(self.state / RESULT, {**result, "ok": False, "stage": "health",
                                         "error": error})  # fmt: skip
        (self.state / PENDING).unlink(missing_ok=True)
        self._restart()
        return 1

    def _restart(self) -> None:
        subprocess.run(self.restart_command, check=False, timeout=120)

    def _prune(self, keep: set[str]) -> None:
        """Old releases beyond the running one and the one to roll back to."""
        releases = sorted((p for p in (self.prefix / "releases").iterdir() if p.is_dir()),
                          key=lambda p: version_key(p.name))  # fmt: skip
        for old in releases[:-KEEP_RELEASES]:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
