"""`civic-iot release build`: the agent and its dependencies as wheels for the Pi's
machines, a manifest of every file's SHA-256, signed with the city's release key.

The key is Ed25519, made once by provisioning in ``<state>/release/`` (private key
0600, never leaves the state directory); devices get the public key in their bundle.
What a release directory holds and how a device installs it: common/releases.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.atomicfile import write, write_secret
from common.releases import LATEST, MANIFEST, SIGNATURE, Manifest, ReleaseError, version_key

PRIVATE_KEY = "release-key.pem"
PUBLIC_KEY = "release-key.pub"
# Raspberry Pi OS bookworm: CPython 3.11, glibc 2.36.
PYTHON = "3.11"
GLIBC_MINOR = 36
MACHINES = ("aarch64", "armv7l")
REPO_ROOT = Path(__file__).resolve().parents[1]


def ensure_key(directory: Path) -> bool:
    """The city's release key pair in ``directory``; True if it was made now."""
    private = directory / PRIVATE_KEY
    if private.exists():
        return False
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret(private, pem)
    write(directory / PUBLIC_KEY, public_pem(key.public_key()))
    return True


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private(directory: Path) -> Ed25519PrivateKey:
    path = directory / PRIVATE_KEY
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ReleaseError(f"{path}: no release key; run `civic-iot provision` first") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path}: expected an Ed25519 key")
    return key


def verify(release: Path, public_key: Path) -> Manifest:
    """The manifest of a built release, if its signature and every file's hash match."""
    key = serialization.load_pem_public_key(public_key.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ReleaseError(f"{public_key}: expected an Ed25519 public key")
    raw = (release / MANIFEST).read_bytes()
    try:
        key.verify((release / SIGNATURE).read_bytes(), raw)
    except (InvalidSignature, FileNotFoundError):
        raise ReleaseError(f"{release / MANIFEST}: signature does not match {public_key}") from None
    manifest = Manifest.parse(raw, str(release / MANIFEST))
    for path, digest in manifest.sha256.items():
        found = hashlib.sha256((release / path).read_bytes()).hexdigest()
        if found != digest:
            raise ReleaseError(f"{release / path}: SHA-256 {found}, signed {digest}")
    return manifest


@dataclass(frozen=True)
class BuildRequest:
    out: Path  # the release root: <out>/<version>/..., <out>/latest
    key_dir: Path
    machines: tuple[str, ...] = MACHINES
    version: str | None = None  # None: the project's own
    index_urls: tuple[str, ...] = ()  # extra indexes, e.g. piwheels for armv7l
    source: Path = REPO_ROOT  # a checkout of civic-iot
    # An earlier release (OUT/VERSION) whose dependency wheels are taken as they are
    # instead of downloading: a patch release built offline, with the same dependencies.
    dependencies_from: Path | None = None


def platform_tags(machine: str) -> list[str]:
    """pip's --platform values a bookworm Pi of ``machine`` can run."""
    arch = {"armv7l": "armv7l", "aarch64": "aarch64", "x86_64": "x86_64"}.get(machine)
    if arch is None:
        raise ReleaseError(f"machine: expected one of aarch64, armv7l, x86_64, found {machine!r}")
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)]
    return [*tags, f"manylinux2014_{arch}", f"linux_{arch}"]


def build(request: BuildRequest) -> Manifest:
    key = load_private(request.key_dir)
    with tempfile.TemporaryDirectory() as scratch:
        own_wheel = _own_wheel(Path(scratch), request.source, request.version)
        version = _wheel_version(own_wheel)
        release = request.out / version
        shutil.rmtree(release, ignore_errors=True)
        machines: dict[str, list[str]] = {}
        for machine in request.machines:
            wheels = release / "wheels" / machine
            wheels.mkdir(parents=True)
            if request.dependencies_from is None:
                _download(own_wheel, machine, wheels, request.index_urls)
            else:
                _reuse(request.dependencies_from, machine, wheels)
            for old in wheels.glob("civic_iot-*.whl"):
                old.unlink()
            shutil.copy2(own_wheel, wheels / own_wheel.name)
            machines[machine] = sorted(f"wheels/{machine}/{p.name}" for p in wheels.iterdir())
    digests = {path: hashlib.sha256((release / path).read_bytes()).hexdigest()
               for files in machines.values() for path in files}  # fmt: skip
    manifest = {"format": 1, "name": "civic-iot", "version": version,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "python": PYTHON, "machines": machines, "sha256": digests}  # fmt: skip
    raw = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    write(release / MANIFEST, raw)
    write(release / SIGNATURE, key.sign(raw))
    latest = request.out / LATEST
    if not latest.exists() or version_key(version) >= version_key(latest.read_text().strip()):
        write(latest, version + "\n")
    return Manifest.parse(raw, str(release / MANIFEST))


def copy_checkout(checkout: Path, into: Path) -> Path:
    """The source of civic-iot without what a build must not see (git, caches, venvs)."""
    skipped = shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "__pycache__", "build", ".*cache", ".benchmarks"
    )
    shutil.copytree(checkout, into, ignore=skipped)
    return into


def _own_wheel(scratch: Path, checkout: Path, version: str | None) -> Path:
    """civic-iot's wheel, from a copy of the source with ``version`` set if asked."""
    source = checkout
    if version is not None:
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", version):
            raise ReleaseError(f"--version: expected e.g. 0.2.1, found {version!r}")
        source = copy_checkout(checkout, scratch / "source")
        init = source / "common" / "__init__.py"
        text = re.sub(r'__version__ = "[^"]*"', f'__version__ = "{version}"',
                      init.read_text(encoding="utf-8"))  # fmt: skip
        init.write_text(text, encoding="utf-8")
    out = scratch / "own"
    _pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)], "build")
    (wheel,) = out.glob("civic_iot-*.whl")
    return wheel


def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def _download(wheel: Path, machine: str, into: Path, index_urls: tuple[str, ...]) -> None:
    platforms = [arg for tag in platform_tags(machine) for arg in ("--platform", tag)]
    extra = [arg for url in index_urls for arg in ("--extra-index-url", url)]
    _pip(["download", "--quiet", "--only-binary=:all:", "--python-version", PYTHON,
          "--implementation", "cp", *platforms, *extra, "--dest", str(into),
          f"{wheel}[edge]"], f"download the dependencies for {machine}")  # fmt: skip


def _reuse(earlier: Path, machine: str, into: Path) -> None:
    found = sorted((earlier / "wheels" / machine).glob("*.whl"))
    if not found:
        raise ReleaseError(f"--dependencies-from: {earlier} has no wheels for {machine}")
    for wheel in found:
        if not wheel.name.startswith("civic_iot-"):
            shutil.copy2(wheel, into / wheel.name)


def _pip(args: list[str], what: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args],
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-6:]
        raise ReleaseError(f"could not {what}: " + " / ".join(tail))
