import shutil
from pathlib import Path

import pytest

from common.city.inventory import load_inventory
from common.yamlconf import ConfigError
from edge.collectors import collector_config
from wire import Zone


def test_example_city_loads_with_homes_facilities_and_profiles(repo_root: Path) -> None:
    inventory = load_inventory(repo_root / "firmware-config")
    kinds = [site.kind for site in inventory.sites.values()]
    assert kinds.count("home") >= 3 and kinds.count("facility") >= 3
    assert set(inventory.profiles) == {"wifi-probe", "watch-over-home", "facility-energy"}
    home = inventory.placement("home-a001-hub")
    assert home is not None
    assert home.site.zone is Zone.WATCH_OVER
    assert home.profile.id == "watch-over-home"
    assert inventory.escalation(home.site)[0].role == "family"
    lonely = inventory.sites["home-a004"]
    assert [step.role for step in inventory.escalation(lonely)][:2] == ["care-manager", "family"]
    assert inventory.placement("no-such-device") is None


@pytest.fixture
def city(tmp_path: Path, repo_root: Path) -> Path:
    shutil.copytree(repo_root / "firmware-config", tmp_path / "fc")
    return tmp_path / "fc"


def write(city: Path, name: str, text: str) -> Path:
    path = city / name
    path.write_text(text, encoding="utf-8")
    return path


def home(
    site_id: str = "home-z999", device: str = "z-hub", profile: str = "watch-over-home"
) -> str:
    return (
        f"id: {site_id}\nkind: home\nname: {{ja: 宅, en: Home}}\n"
        f"devices:\n  - id: {device}\n    profile: {profile}\n"
    )


def failure(city: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_inventory(city, collector_config)  # as `civic-iot provision` does
    return info.value


def test_a_device_listed_twice_names_the_other_site(city: Path) -> None:
    write(city, "sites/home-z999.yaml", home(device="home-a001-hub"))
    error = failure(city)
    assert "home-z999.yaml:5" in str(error)
    assert "device 'home-a001-hub' is also at site 'home-a001'" in error.reason


def test_unknown_profile_lists_the_profiles(city: Path) -> None:
    write(city, "sites/home-z999.yaml", home(profile="toaster"))
    error = failure(city)
    assert (error.key, error.line) == ("devices[0].profile", 6)
    assert (
        "no profile 'toaster'; profiles: facility-energy, watch-over-home, wifi-probe"
        in error.reason
    )


def test_file_must_be_named_after_its_id(city: Path) -> None:
    write(city, "sites/home-z998.yaml", home())
    assert "must live in a file named home-z999.yaml" in failure(city).reason


def test_a_home_may_not_carry_an_address(city: Path) -> None:
    write(city, "sites/home-z999.yaml", home() + "address: 網走市\n")
    error = failure(city)
    assert error.key == "address"
    assert "personal data" in error.reason


def test_unknown_time_zone_is_refused(city: Path) -> None:
    write(city, "sites/home-z999.yaml", home() + "timezone: Asia/Abashiri\n")
    assert "unknown time zone 'Asia/Abashiri'" in failure(city).reason


def test_a_profile_with_an_unknown_collector_is_refused(city: Path) -> None:
    write(
        city,
        "profiles/radar.yaml",
        "id: radar\nname: {ja: レーダー, en: Radar}\ncollectors:\n  - {type: radar}\n",
    )
    error = failure(city)
    assert (Path(error.source).name, error.key) == ("radar.yaml", "collectors[0].type")
    assert "expected one of" in error.reason


def test_a_device_collector_override_is_validated_and_merged(city: Path) -> None:
    text = home() + "    collectors:\n      - {type: system, interval_s: 5}\n"
    write(city, "sites/home-z999.yaml", text)
    placement = load_inventory(city).placement("z-hub")
    assert placement is not None
    assert placement.collectors() == [{"type": "system", "interval_s": 5}]
    write(
        city, "sites/home-z999.yaml", home() + "    collectors:\n      - {type: system, every: 5}\n"
    )
    assert failure(city).key == "devices[0].collectors[0].every"


def test_escalation_steps_may_not_go_back_in_time(city: Path) -> None:
    text = (
        home()
        + "escalation:\n  - {role: family, after_min: 10}\n  - {role: care-manager, after_min: 5}\n"
    )
    write(city, "sites/home-z999.yaml", text)
    error = failure(city)
    assert (error.key, error.line) == ("escalation[1].after_min", 9)


def test_a_service_account_may_not_take_a_device_id(city: Path) -> None:
    text = (city / "city.yaml").read_text(encoding="utf-8")
    write(
        city,
        "city.yaml",
        text.replace("{id: alerts-1, role: alerts}", "{id: home-a001-hub, role: alerts}"),
    )
    assert "service 'home-a001-hub' has the ID of a device" in failure(city).reason


def test_no_sites_says_so(city: Path) -> None:
    for path in (city / "sites").glob("*.yaml"):
        path.unlink()
    assert "no files (*.yaml) found" in failure(city).reason
