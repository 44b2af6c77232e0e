"""civic-iot: the top layer, the command line and the demo (with its stand-ins)."""

from common import __version__

__all__ = ["__version__"]
