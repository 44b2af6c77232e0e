"""A new Pi installed as the README says, for real: a fresh Debian bookworm root made
with debootstrap, the device bundle unpacked in it and its firstboot.sh run in a chroot
(amd64 here; the steps are the same on a Pi). First offline from the release the bundle
carries, then again from the city's release directory served on loopback, where a newer
release waits: it upgrades and keeps the older one for a rollback."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from civic_iot.services import in_ci
from common import __version__
from common.city.inventory import load_inventory
from edge.collectors import collector_config
from provisioning.provision import Endpoint, Provisioner
from tests.provisioning.releases import CityReleases, served

DEVICE = "home-a001-hub"
# root's home inside the fresh Debian root (the Pi being installed), where IT copies the
# bundle: a path of the chroot, never of the machine running the test.
DEVICE_HOME = PurePosixPath("/", "root")
MIRROR = os.environ.get("CIVIC_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = Path.home() / ".cache" / "civic-iot" / "debootstrap"


def _needs_root_and_debootstrap() -> None:
    missing = [] if shutil.which("debootstrap") else ["debootstrap (scripts/test installs it)"]
    missing += [] if os.geteuid() == 0 else ["root (debootstrap and chroot)"]
    if missing:
        if in_ci():
            pytest.fail(f"CI needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")


PACKAGES = "python3,python3-venv,openssl,systemd,passwd"


def _debootstrap(root: Path) -> None:
    """A new bookworm root; the first one is kept as a tarball (keyed by the package
    list), so later runs start from an untouched copy instead of installing again."""
    pristine = CACHE / f"bookworm-{PACKAGES.replace(',', '+')}.tar"
    if not pristine.exists():
        command = ["debootstrap", "--variant=minbase", f"--cache-dir={CACHE}",
                   f"--include={PACKAGES}", "bookworm", str(root), MIRROR]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=900,
                                check=False)  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        partial = pristine.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.replace(pristine)
        return
    root.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(root), "-xf", str(pristine)], check=True)


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh bookworm root with what Raspberry Pi OS Lite has that firstboot.sh uses
    (python3 and its venv, openssl, systemd)."""
    _needs_root_and_debootstrap()
    root = tmp_path_factory.mktemp("debian") / "root"
    CACHE.mkdir(parents=True, exist_ok=True)
    _debootstrap(root)
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root / "proc")], check=False)


def chroot(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "LANG": "C.UTF-8", "HOME": str(DEVICE_HOME)}  # fmt: skip
    return subprocess.run(["chroot", str(root), *command], capture_output=True, text=True,
                          env=env, timeout=600, check=False)  # fmt: skip


def unpack_bundle(state: Path, root: Path) -> PurePosixPath:
    """The bundle as IT copies it to the Pi; returns its directory inside ``root``."""
    with tarfile.open(state / "bundles" / f"{DEVICE}.tar.gz") as archive:
        archive.extractall(root / DEVICE_HOME.relative_to("/") / "bundle", filter="data")
    return DEVICE_HOME / "bundle" / DEVICE


@pytest.mark.timeout(1500)
def test_firstboot_installs_offline_then_upgrades_from_the_city(
    debian: Path, tmp_path: Path, repo_root: Path, city_releases: CityReleases
) -> None:
    releases = city_releases.only(tmp_path / "releases", __version__)
    state = tmp_path / "provision"  # provisioning with the city's release key
    shutil.copytree(city_releases.state / "release", state / "release")
    NEWER = city_releases.good  # noqa: N806 - a release the city publishes later
    with served(releases) as url:
        inventory = load_inventory(repo_root / "firmware-config", collector_config)
        Provisioner(inventory, state, Endpoint("mqtt.city.example", 8883, 1883),
                    broker_user="root", release_url=url).provision()  # fmt: skip
        bundle = unpack_bundle(state, debian)
        # Offline: the bundle carries the release (RELEASE_URL is not even needed).
        shutil.copytree(releases, debian / bundle.relative_to("/") / "release")
        first = chroot(debian, "bash", str(bundle / "firstboot.sh"))
        assert first.returncode == 0, first.stdout + first.stderr
        current = debian / "opt" / "civic-iot" / "current"
        assert current.readlink() == Path("releases", __version__)
        check = chroot(debian, "/opt/civic-iot/current/bin/civic-iot", "edge", "check-config",
                       "/etc/civic-iot/agent.yaml")  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        assert DEVICE in check.stdout
        unit = debian / "etc" / "systemd" / "system" / "civic-iot-agent.service"
        assert "ExecStart=/opt/civic-iot/current/bin/civic-iot edge run" in unit.read_text()
        wants = debian / "etc/systemd/system/multi-user.target.wants/civic-iot-agent.service"
        assert wants.is_symlink()  # enabled: starts on every boot
        updates = debian / "etc/systemd/system/multi-user.target.wants/civic-iot-update.path"
        assert updates.is_symlink()  # over-the-air update requests are watched
        assert (debian / "opt" / "civic-iot" / "install-release.py").exists()
        key_mode = (debian / "etc" / "civic-iot" / "client.key").stat().st_mode & 0o777
        assert key_mode == 0o640

        # Run again: nothing to do. Then the city publishes a newer release at its URL.
        shutil.rmtree(debian / bundle.relative_to("/") / "release")
        again = chroot(debian, "bash", str(bundle / "firstboot.sh"))
        assert again.returncode == 0 and "installed already" in again.stdout, again.stderr
        city_releases.only(tmp_path / "newer", NEWER)
        shutil.copytree(tmp_path / "newer" / NEWER, releases / NEWER)
        (releases / "latest").write_text(NEWER + "\n", encoding="utf-8")
        upgraded = chroot(debian, "bash", str(bundle / "firstboot.sh"))
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert f"{NEWER} installed (was {__version__})" in upgraded.stdout
    assert current.readlink() == Path("releases", NEWER)
    version = chroot(debian, "/opt/civic-iot/current/bin/civic-iot", "--version")
    assert version.stdout.strip() == f"civic-iot {NEWER}"
    assert (debian / "opt" / "civic-iot" / "releases" / __version__ / "bin" / "civic-iot").exists()
