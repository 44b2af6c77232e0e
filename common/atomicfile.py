"""Write rendered files atomically, secrets with 0600, and only when they change.

Writing only on change is what makes provisioning idempotent: a second run leaves every
file (and its modification time) as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET = 0o600
PUBLIC = 0o644


def write(path: Path, data: bytes | str, mode: int = PUBLIC) -> bool:
    """Write ``data`` to ``path`` unless it already holds it; True if it was written."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.read_bytes() == content:
            if path.stat().st_mode & 0o777 != mode:
                path.chmod(mode)
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def write_secret(path: Path, data: bytes | str, mode: int = SECRET) -> bool:
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    return write(path, data, mode)
