"""Every collector's folder has a sample config; it loads, and the README shows it
word for word, so the docs cannot rot."""

import re
from pathlib import Path

import pytest
import yaml

from common import yamlconf
from edge.collectors import REGISTRY, collector_config, sample_path

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = re.compile(r"^#### Collector: (?P<names>[^\n]+)\n(?P<body>.*?)(?=^#{2,4} )", re.S | re.M)


def readme_samples() -> dict[str, str]:
    """Each collector's name -> the YAML its README section shows."""
    found = {}
    for section in SECTION.finditer(README.read_text(encoding="utf-8")):
        blocks = "".join(re.findall(r"```yaml\n(.*?)```", section["body"], re.S))
        for name in section["names"].split(" and "):
            found[name.strip()] = blocks
    return found


def test_every_registered_collector_has_a_sample_and_a_readme_section() -> None:
    assert {kind for kind in REGISTRY if sample_path(kind).is_file()} == set(REGISTRY)
    assert set(readme_samples()) == set(REGISTRY)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_the_sample_validates_and_the_readme_shows_it(kind: str) -> None:
    text = sample_path(kind).read_text(encoding="utf-8")
    entries = yaml.safe_load(text)
    document = yamlconf.Document(str(sample_path(kind)), entries)
    for index in range(len(entries)):
        assert collector_config(document, f"$[{index}]").type == kind
    assert text in readme_samples()[kind]
