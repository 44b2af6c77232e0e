"""The registry file: upgraded in place by migrations, refused when it is newer."""

from pathlib import Path

import pytest

from gateway import registry_db
from gateway.errors import RegistryError
from gateway.registry_db import DeviceRecord


def test_an_older_registry_is_upgraded_and_keeps_its_devices(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    db = registry_db.connect(path)
    registry_db.save(db, [DeviceRecord("home-a001-hub", site="home-a001", messages=7)])
    db.close()
    later = (*registry_db.MIGRATIONS, "ALTER TABLE devices ADD COLUMN note TEXT")
    db = registry_db.connect(path, later)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(later)
    assert registry_db.load(db)["home-a001-hub"].messages == 7
    db.close()


def test_a_registry_from_a_newer_release_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    later = (*registry_db.MIGRATIONS, "ALTER TABLE devices ADD COLUMN note TEXT")
    registry_db.connect(path, later).close()
    newer = len(registry_db.MIGRATIONS) + 1
    with pytest.raises(
        RegistryError, match=rf"registry\.sqlite3 has schema version {newer}.*newer"
    ):
        registry_db.connect(path)


def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RegistryError, match=r"registry\.sqlite3"):
        registry_db.connect(path)
