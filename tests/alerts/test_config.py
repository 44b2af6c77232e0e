"""The example alerts config loads; rule mistakes name the file, key and what was expected."""

from pathlib import Path

import pytest

from alerts import config
from alerts.rules import DEFAULT_RULES, load_rules
from common.yamlconf import ConfigError


def test_the_example_config_and_the_default_rules_load(repo_root: Path) -> None:
    loaded = config.load(repo_root / "alerts" / "examples" / "alerts.yaml")
    assert Path(loaded.inventory) == (repo_root / "firmware-config").resolve()
    assert loaded.quiet_hours == "22:00-07:00"
    rules = load_rules([DEFAULT_RULES])
    assert {"room-cold", "inactivity-12h", "no-wake-up", "panic", "night-door"} <= set(rules)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{id: x, kind: threshold, quantity: climate.tempreature, below: 5, "
         "title: {ja: a, en: a}, advice: {ja: a, en: a}}", "unknown quantity"),
        ("{id: x, kind: threshold, quantity: wifi.ap_up, below: 5, "
         "title: {ja: a, en: a}, advice: {ja: a, en: a}}", "wifi.ap_up needs equals"),
        ("{id: x, kind: deadline, by: '25:00', title: {ja: a, en: a}, advice: {ja: a, en: a}}",
         "by"),
        ("{id: x, kind: sometimes, title: {ja: a, en: a}, advice: {ja: a, en: a}}", "kind"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_refused_by_file_and_key(tmp_path: Path, rule: str, message: str) -> None:
    (tmp_path / "mine.yaml").write_text(f"rules:\n  - {rule}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_rules([DEFAULT_RULES, tmp_path])
    assert "mine.yaml" in str(error.value) and message in str(error.value)


def test_a_later_rule_file_overrides_a_default_by_id(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "rules:\n  - {id: room-cold, kind: threshold, quantity: climate.temperature, "
        "below: 16, for_min: 30, title: {ja: a, en: a}, advice: {ja: a, en: a}}\n"
        "  - {id: night-door, kind: night-door, enabled: false, "
        "title: {ja: a, en: a}, advice: {ja: a, en: a}}\n",
        encoding="utf-8",
    )
    rules = load_rules([DEFAULT_RULES, tmp_path])
    assert rules["room-cold"].below == 16  # type: ignore[union-attr]
    assert "night-door" not in rules
