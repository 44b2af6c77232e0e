import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.city.inventory import Inventory, load_inventory
from common.city.residents import load_residents
from common.yamlconf import ConfigError

EXAMPLE = "examples/residents.fictitious.yaml"


@pytest.fixture(scope="module")
def inventory(repo_root: Path) -> Inventory:
    return load_inventory(repo_root / "firmware-config")


@pytest.fixture
def residents(tmp_path: Path, repo_root: Path) -> Path:
    path = tmp_path / "residents.yaml"
    shutil.copy(repo_root / EXAMPLE, path)
    path.chmod(0o600)
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_fictitious_example_covers_every_escalation_step(
    residents: Path, inventory: Inventory
) -> None:
    directory = load_residents(residents, inventory)
    assert directory.warnings == []
    for site in inventory.sites.values():
        for step in inventory.escalation(site):
            assert directory.contacts(site.id, step.role), (site.id, step.role)
    assert [c.name for c in directory.contacts("home-a001", "family")] == ["網走 花子"]
    city_wide = directory.contacts("home-a001", "municipal-staff")
    assert city_wide and city_wide[0].email == "fukushi@example.jp"


def test_a_home_without_a_resident_is_an_error(residents: Path, inventory: Inventory) -> None:
    edit(residents, "site: home-a003", "site: home-a002")
    with pytest.raises(ConfigError, match="home 'home-a003' has no resident"):
        load_residents(residents, inventory)


def test_an_uncovered_escalation_role_names_the_site(residents: Path, inventory: Inventory) -> None:
    edit(residents, "role: facility-staff, site: lib-central", "role: it, site: lib-central")
    with pytest.raises(
        ConfigError, match="nobody holds role 'facility-staff' for site 'lib-central'"
    ):
        load_residents(residents, inventory)


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        (
            "line_user_id: U0123456789abcdef0123456789abcdef",
            "line_user_id: hanako",
            "residents[0].contacts[0].line_user_id",
            "matching regex",
        ),
        (
            'phone: "+81152000002"',
            'phone: "0152-00-0002"',
            "residents[1].contacts[1].phone",
            "matching regex",
        ),
        (
            "{role: family, name: 能取 健, email: ken@example.jp}",
            "{role: family, name: 能取 健}",
            "residents[1].contacts[0]",
            "at least one of email",
        ),
        ("site: home-a001", "site: lib-central", "residents[0].site", "not a home"),
        (
            "{role: neighbour,",
            "{role: municipal-staff,",
            "residents[1].contacts[1].role",
            "staff role",
        ),
    ],
)
def test_mistakes_name_the_key(
    residents: Path, inventory: Inventory, old: str, new: str, key: str, reason: str
) -> None:
    edit(residents, old, new)
    with pytest.raises(ConfigError) as info:
        load_residents(residents, inventory)
    assert info.value.key == key
    assert reason in info.value.reason
    assert info.value.line is not None


def test_a_file_others_can_read_is_flagged(residents: Path, inventory: Inventory) -> None:
    residents.chmod(0o644)
    (warning,) = load_residents(residents, inventory).warnings
    assert "chmod 600" in warning


def test_a_file_others_can_write_is_refused(residents: Path, inventory: Inventory) -> None:
    residents.chmod(0o664)
    with pytest.raises(ConfigError, match="writable by others"):
        load_residents(residents, inventory)


def test_the_check_command_prints_no_personal_data(residents: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "civic_iot", "residents", "check", "--file", str(residents)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "4 residents" in result.stdout
    assert "home-a004" in result.stdout and "care-manager(1)" in result.stdout
    for personal in ("網走 一郎", "example.jp", "+8115", "U0123"):
        assert personal not in result.stdout


PERSONAL = {
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "phone number": re.compile(r"\+?\d{2,4}-\d{2,4}-\d{3,4}|\+81\d{9,10}"),
    "LINE user ID": re.compile(r"\bU[0-9a-f]{32}\b"),
}


def test_firmware_config_holds_no_personal_data(repo_root: Path) -> None:
    for path in (repo_root / "firmware-config").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for what, pattern in PERSONAL.items():
                assert not pattern.search(text), f"{path}: looks like a {what}"


def test_the_scan_finds_personal_data_where_there_is_some(repo_root: Path) -> None:
    text = (repo_root / EXAMPLE).read_text(encoding="utf-8")
    assert all(pattern.search(text) for pattern in PERSONAL.values())
