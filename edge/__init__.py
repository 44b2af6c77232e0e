"""The civic-iot edge agent that runs on each Raspberry Pi."""

from __future__ import annotations

from common import __version__

AGENT_VERSION = __version__
AGENT_NAME = f"civic-iot-edge/{AGENT_VERSION}"
