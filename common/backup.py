"""Back up and restore the servers' state directories in one archive.

SQLite files are copied with SQLite's online backup (a consistent copy while the
gateway or the alerts service keeps writing); every other file as it is, with its mode.
The archive holds secrets (the CA's and the release key, the alerts store's names and
contacts), so it is written 0600. A manifest lists every file with its SHA-256, and a
restore checks them before it writes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "backup.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go ahead; says which file or directory and why."""


@dataclass(frozen=True)
class Part:
    """One state directory: its name in the archive and where it lives here."""

    name: str
    directory: Path


def _file_bytes(path: Path) -> bytes:
    if path.suffix not in (".sqlite3", ".db"):
        return path.read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / path.name
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return copy.read_bytes()


def backup(parts: list[Part], out: Path, version: str) -> dict[str, int]:
    """Write ``out`` (.tar.gz, 0600); returns the number of files per part."""
    manifest: dict[str, object] = {"format": FORMAT, "version": version,
                                   "created": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    files: dict[str, dict[str, object]] = {}
    counts: dict[str, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for part in parts:
            if not part.directory.is_dir():
                raise BackupError(f"{part.name}: {part.directory} is not a directory")
            counts[part.name] = 0
            for path in sorted(p for p in part.directory.rglob("*") if p.is_file()):
                if path.name.endswith(("-wal", "-shm", "-journal")):
                    continue  # inside the SQLite backup already
                data = _file_bytes(path)
                name = f"{part.name}/{path.relative_to(part.directory)}"
                mode = path.stat().st_mode & 0o777
                _add(archive, name, data, mode)
                files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "mode": mode}
                counts[part.name] += 1
        manifest["files"] = files
        _add(archive, MANIFEST, json.dumps(manifest, indent=1).encode(), 0o600)
    return counts


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    archive.addfile(info, io.BytesIO(data))


def restore(archive_path: Path, parts: list[Part], *, force: bool = False) -> dict[str, int]:
    """Put each part back into its directory; refuses a directory that holds files
    unless ``force``. Every file's hash is checked before anything is written."""
    contents = _read(archive_path)
    manifest = json.loads(contents.pop(MANIFEST))
    listed: dict[str, dict[str, object]] = manifest["files"]
    for name, data in contents.items():
        expected = listed.get(name, {}).get("sha256")
        if expected != hashlib.sha256(data).hexdigest():
            raise BackupError(f"{archive_path}: {name} does not match its manifest entry")
    for part in parts:
        if part.directory.exists() and any(part.directory.iterdir()) and not force:
            raise BackupError(f"{part.name}: {part.directory} is not empty (--force replaces "
                              "the files the backup holds)")  # fmt: skip
    counts: dict[str, int] = {}
    for part in parts:
        counts[part.name] = 0
        for name, data in contents.items():
            head, _, relative = name.partition("/")
            if head != part.name:
                continue
            target = part.directory / relative
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            mode = int(str(listed[name]["mode"]))
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            target.chmod(mode)
            counts[part.name] += 1
    return counts


def _read(archive_path: Path) -> dict[str, bytes]:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            contents = {}
            for member in archive.getmembers():
                if not member.isfile() or member.name.startswith("/") or ".." in member.name:
                    raise BackupError(f"{archive_path}: unexpected entry {member.name!r}")
                stream = archive.extractfile(member)
                assert stream is not None  # a regular file
                contents[member.name] = stream.read()
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive_path}: not a civic-iot backup ({exc})") from None
    if MANIFEST not in contents:
        raise BackupError(f"{archive_path}: no {MANIFEST}; not a civic-iot backup")
    return contents
