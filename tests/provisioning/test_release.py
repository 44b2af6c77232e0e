"""Signed releases: the city's key signs the manifest, the manifest every wheel's
SHA-256; the installer a device runs refuses anything else and says why."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from civic_iot.cli import main
from common import __version__, releases
from provisioning.release import PRIVATE_KEY, ensure_key
from tests.provisioning.releases import CityReleases, public_key, served


def copy_of(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "releases"
    shutil.copytree(out, copy)
    return copy


def install(
    source: str, key: Path, prefix: Path, version: str | None = __version__
) -> subprocess.CompletedProcess[str]:
    """The installer as a device runs it: the bundle's install-release.py, stdlib only."""
    command = [sys.executable, releases.__file__, "--source", source, "--key", str(key),
               "--prefix", str(prefix), "--no-compile"]  # fmt: skip
    command += ["--version", version] if version else []
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_the_release_key_is_the_citys_alone(tmp_path: Path) -> None:
    assert ensure_key(tmp_path) is True
    assert stat.S_IMODE((tmp_path / PRIVATE_KEY).stat().st_mode) == 0o600
    before = (tmp_path / PRIVATE_KEY).read_bytes()
    assert ensure_key(tmp_path) is False  # kept: devices trust this key
    assert (tmp_path / PRIVATE_KEY).read_bytes() == before


def test_a_built_release_verifies_and_lists_every_wheel(
    city_releases: CityReleases, capsys: pytest.CaptureFixture[str]
) -> None:
    state, out = city_releases.state, city_releases.out
    assert (out / "latest").read_text().strip() == city_releases.broken  # the newest
    assert main(["release", "verify", str(out / __version__), "--key", str(public_key(state))]) == 0
    assert "signature and" in capsys.readouterr().out
    manifest = json.loads((out / __version__ / "manifest.json").read_text())
    (files,) = manifest["machines"].values()
    names = {Path(f).name.split("-")[0].lower() for f in files}
    assert {"civic_iot", "paho_mqtt", "msgspec", "pyyaml", "pymodbus"} <= names


def test_a_tampered_wheel_is_refused(city_releases: CityReleases, tmp_path: Path) -> None:
    state, out = city_releases.state, city_releases.out
    releases_dir = copy_of(out, tmp_path)
    (wheel,) = (releases_dir / __version__ / "wheels").glob("*/paho_mqtt-*.whl")
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    with served(releases_dir) as url:
        result = install(url, public_key(state), tmp_path / "opt")
    assert result.returncode == 1
    assert f"{wheel.name}: SHA-256" in result.stderr and "refusing to install" in result.stderr
    assert not (tmp_path / "opt" / "current").exists()
    assert main(["release", "verify", str(releases_dir / __version__),
                 "--key", str(public_key(state))]) == 1  # fmt: skip


def test_a_tampered_manifest_or_a_foreign_key_is_refused(
    city_releases: CityReleases, tmp_path: Path
) -> None:
    state, out = city_releases.state, city_releases.out
    releases_dir = copy_of(out, tmp_path)
    manifest = releases_dir / __version__ / "manifest.json"
    data = json.loads(manifest.read_text())
    (machine,) = data["machines"]
    data["machines"][machine].append(f"wheels/{machine}/evil-1.0-py3-none-any.whl")
    data["sha256"][f"wheels/{machine}/evil-1.0-py3-none-any.whl"] = "0" * 64
    manifest.write_text(json.dumps(data))
    result = install(str(releases_dir), public_key(state), tmp_path / "opt")
    assert result.returncode == 1
    assert "signature does not match the city's release key" in result.stderr
    stranger = tmp_path / "stranger"
    ensure_key(stranger)
    result = install(str(out), public_key(stranger), tmp_path / "opt")
    assert result.returncode == 1 and "signature does not match" in result.stderr
    assert not (tmp_path / "opt" / "current").exists()


def test_an_older_release_never_replaces_a_newer_one(tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    (prefix / "releases" / "0.3.0").mkdir(parents=True)
    (prefix / "releases" / "0.3.0" / releases.COMPLETE).write_text("0.3.0\n")
    releases.switch(prefix, prefix / "releases" / "0.3.0")
    (tmp_path / "rel").mkdir()
    (tmp_path / "rel" / "latest").write_text("0.2.9\n")
    result = install(str(tmp_path / "rel"), tmp_path / "key.pub", prefix, version=None)
    assert result.returncode == 1
    assert "0.2.9 is older than the installed 0.3.0" in result.stderr
    assert releases.installed_version(prefix) == "0.3.0"


def test_a_patch_built_offline_takes_the_earlier_releases_dependencies(
    city_releases: CityReleases,
) -> None:
    """The fixture built the later releases with --dependencies-from the first."""

    def wheels(version: str) -> set[str]:
        manifest = json.loads((city_releases.out / version / "manifest.json").read_text())
        (files,) = manifest["machines"].values()
        return {Path(f).name for f in files}

    base, good = wheels(city_releases.base), wheels(city_releases.good)
    assert {w for w in base if not w.startswith("civic_iot-")} == {
        w for w in good if not w.startswith("civic_iot-")
    }
    assert f"civic_iot-{city_releases.good}-py3-none-any.whl" in good
    assert not any(w.startswith(f"civic_iot-{city_releases.base}-") for w in good)
