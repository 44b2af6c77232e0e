import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import yaml

from common import yamlconf
from common.yamlconf import ConfigError


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    port: int
    host: str = "localhost"


class Outer(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    items: list[Inner]


def load(tmp_path: Path, text: str) -> Outer:
    path = tmp_path / "sample.yaml"
    path.write_text(text, encoding="utf-8")
    return yamlconf.load(path, Outer)


def error(tmp_path: Path, text: str) -> yamlconf.ConfigError:
    with pytest.raises(yamlconf.ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_valid_file_loads(tmp_path: Path) -> None:
    assert load(tmp_path, "name: a\nitems:\n  - port: 1\n") == Outer("a", [Inner(1)])


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    exc = error(tmp_path, "name: a\nitems:\n  - port: 1\n    hots: x\n")
    assert exc.line == 4
    assert exc.key == "items[0].hots"
    assert str(exc).startswith(f"{tmp_path / 'sample.yaml'}:4: items[0].hots: unknown key")


def test_wrong_type_names_the_key_and_what_was_expected(tmp_path: Path) -> None:
    exc = error(tmp_path, "name: a\nitems:\n  - port: '1883'\n")
    assert (exc.line, exc.key) == (3, "items[0].port")
    assert "Expected `int`, got `str`" in exc.reason


def test_missing_key_points_at_the_object(tmp_path: Path) -> None:
    exc = error(tmp_path, "name: a\nitems:\n  - host: x\n")
    assert exc.key == "items[0]"
    assert "missing required field `port`" in exc.reason


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    exc = error(tmp_path, "name: a\nname: b\nitems: []\n")
    assert (exc.line, exc.key, exc.reason) == (2, "name", "duplicate key")


def test_broken_yaml_gives_the_line(tmp_path: Path) -> None:
    exc = error(tmp_path, "name: a\nitems: [\n  - port: 1\n")
    assert "not valid YAML" in exc.reason
    assert exc.line is not None


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(yamlconf.ConfigError, match="cannot read"):
        yamlconf.load(tmp_path / "absent.yaml", Outer)


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    bomb += "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                    for p, c in zip("bcdefgh", "cdefghi", strict=True))  # fmt: skip
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"aliases \(\*a\) are not accepted") as info:
        yamlconf.read(path)
    assert str(path) in str(info.value)


def test_a_huge_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("x: " + "y" * 2_000_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="not a config file"):
        yamlconf.read(path)


JSON_CONFIG = """# Agent config, by `civic-iot provision`.
{
  "name": "a",
  "items": [
    {"port": 1},
    {"port": 2, "host": "pi"}
  ]
}
"""


def test_a_json_config_reads_as_yaml_reads_it_without_the_yaml_parser(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(JSON_CONFIG, encoding="utf-8")
    script = (
        "import sys, msgspec\n"
        "from common import yamlconf\n"
        f"print(msgspec.json.encode(yamlconf.read(__import__('pathlib').Path({str(path)!r})).data)"
        ".decode(), 'yaml' in sys.modules)\n"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parents[1]).stdout.split()  # fmt: skip
    expected = yaml.safe_load(JSON_CONFIG)
    assert (json.loads(found[0]), found[1]) == (expected, "False")
    assert load(tmp_path, JSON_CONFIG) == Outer("a", [Inner(1), Inner(2, "pi")])


def test_a_json_config_still_names_the_line_of_a_mistake(tmp_path: Path) -> None:
    exc = error(tmp_path, JSON_CONFIG.replace('"host": "pi"', '"hots": "pi"'))
    assert (exc.line, exc.key) == (6, "items[1].hots")
    twice = error(tmp_path, JSON_CONFIG.replace('{"port": 1}', '{"port": 1, "port": 3}'))
    assert (twice.line, twice.key, twice.reason) == (5, "items[0].port", "duplicate key")
