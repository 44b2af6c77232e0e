"""Remote configuration: the retained, versioned desired document and what runs.

IT publishes a ``ConfigDesired`` (retained) on the device's config/desired topic. The
agent validates it exactly as it validates its config file, applies the collectors
without restarting, keeps the applied version on disk (so a restart runs it too) and
reports the version it runs, or the reason it kept the old one, on config/reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NamedTuple

import msgspec

from common import yamlconf
from common.atomicfile import write_secret
from edge.collectors import collector_config


class RemoteConfig(msgspec.Struct, forbid_unknown_fields=True):
    """What IT may change remotely: the collectors (never identity or credentials)."""

    collectors: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1)]


class Desired(NamedTuple):
    version: int
    config: dict[str, Any]


def check(desired: Desired) -> yamlconf.Document:
    """Validate a desired config, collectors included, without touching any hardware;
    ConfigError says what is wrong."""
    document = yamlconf.Document(f"desired config version {desired.version}", desired.config)
    return check_document(document)


def check_document(document: yamlconf.Document) -> yamlconf.Document:
    """Validate a remote config as the agent will (IT runs this before sending one, so
    the error names the file and line)."""
    yamlconf.convert(document, RemoteConfig)
    for index in range(len(document.data["collectors"])):
        collector_config(document, f"$.collectors[{index}]")
    return document


class AppliedStore:
    """The last applied desired config, in the agent's state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "applied-config.json"

    def load(self) -> Desired | None:
        if not self.path.exists():
            return None
        stored = msgspec.json.decode(self.path.read_bytes())
        return Desired(int(stored["version"]), stored["config"])

    def save(self, applied: Desired) -> None:
        stored = {"version": applied.version, "config": applied.config}
        write_secret(self.path, msgspec.json.format(msgspec.json.encode(stored)))
