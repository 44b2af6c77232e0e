import shutil
from pathlib import Path

import pytest

from civic_iot.yamlconf import ConfigError
from provisioning.inventory import Profile, load_inventory
from wire import Zone


def test_example_city_loads_with_homes_and_facilities(repo_root: Path) -> None:
    inventory = load_inventory(repo_root / "firmware-config")
    kinds = {site.kind for site in inventory.sites.values()}
    assert kinds == {"home", "facility"}
    assert len(inventory.devices) >= 6
    home = inventory.placement("home-a001-hub")
    assert home is not None
    assert home.site.zone is Zone.WATCH_OVER
    assert home.device.profile is Profile.WATCH_OVER_HOME
    assert inventory.placement("no-such-device") is None


@pytest.fixture
def city(tmp_path: Path, repo_root: Path) -> Path:
    shutil.copytree(repo_root / "firmware-config" / "sites", tmp_path / "sites")
    return tmp_path


def write_site(city: Path, name: str, text: str) -> Path:
    path = city / "sites" / name
    path.write_text(text, encoding="utf-8")
    return path


HOME = "id: {id}\nkind: home\nname: {{ja: 宅, en: Home}}\ndevices:\n  - id: {device}\n    profile: {profile}\n"


def test_a_device_listed_twice_names_both_files(city: Path) -> None:
    write_site(
        city,
        "home-z999.yaml",
        HOME.format(id="home-z999", device="home-a001-hub", profile="watch-over-home"),
    )
    with pytest.raises(ConfigError) as info:
        load_inventory(city)
    assert "home-z999.yaml:5" in str(info.value)
    assert "already listed in home-a001.yaml" in str(info.value)


def test_unknown_profile_lists_what_is_allowed(city: Path) -> None:
    write_site(
        city, "home-z999.yaml", HOME.format(id="home-z999", device="z-hub", profile="toaster")
    )
    with pytest.raises(ConfigError) as info:
        load_inventory(city)
    assert info.value.key == "devices[0].profile"
    assert info.value.line == 6
    assert "watch-over-home" in info.value.reason


def test_site_file_must_be_named_after_its_id(city: Path) -> None:
    write_site(
        city, "home-z998.yaml", HOME.format(id="home-z999", device="z-hub", profile="wifi-probe")
    )
    with pytest.raises(ConfigError, match=r"must live in a file named home-z999\.yaml"):
        load_inventory(city)


def test_a_home_may_not_carry_an_address(city: Path) -> None:
    text = HOME.format(id="home-z999", device="z-hub", profile="wifi-probe") + "address: 網走市\n"
    write_site(city, "home-z999.yaml", text)
    with pytest.raises(ConfigError, match="personal data") as info:
        load_inventory(city)
    assert info.value.key == "address"


def test_unknown_time_zone_is_refused(city: Path) -> None:
    text = (
        HOME.format(id="home-z999", device="z-hub", profile="wifi-probe")
        + "timezone: Asia/Abashiri\n"
    )
    write_site(city, "home-z999.yaml", text)
    with pytest.raises(ConfigError, match="unknown time zone 'Asia/Abashiri'"):
        load_inventory(city)


def test_empty_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no site files"):
        load_inventory(tmp_path)
