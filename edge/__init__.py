"""The civic-iot edge agent that runs on each Raspberry Pi."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    AGENT_VERSION = version("civic-iot")
except PackageNotFoundError:  # running from a source tree that was never installed
    AGENT_VERSION = "0.0.0+source"

AGENT_NAME = f"civic-iot-edge/{AGENT_VERSION}"
