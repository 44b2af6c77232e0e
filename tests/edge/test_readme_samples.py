"""Every collector's sample config in the README loads, so the docs cannot rot."""

import re
from pathlib import Path

import pytest
import yaml

from common import yamlconf
from edge.collectors import REGISTRY, collector_config

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = re.compile(r"^#### Collector: (?P<names>[^\n]+)\n(?P<body>.*?)(?=^#{2,4} )", re.S | re.M)


def samples() -> dict[str, str]:
    found = {}
    for section in SECTION.finditer(README.read_text(encoding="utf-8")):
        blocks = re.findall(r"```yaml\n(.*?)```", section["body"], re.S)
        assert blocks, f"no sample config under 'Collector: {section['names']}'"
        found[section["names"]] = "".join(blocks)
    return found


def test_every_registered_collector_has_a_sample() -> None:
    documented = {name.strip() for names in samples() for name in names.split(" and ")}
    assert documented == set(REGISTRY)


@pytest.mark.parametrize("names", sorted(samples()))
def test_the_sample_validates(names: str) -> None:
    entries = yaml.safe_load(samples()[names])
    document = yamlconf.Document(f"README 'Collector: {names}'", entries)
    for index in range(len(entries)):
        collector_config(document, f"$[{index}]")
