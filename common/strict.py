"""The base of every config struct: unknown keys are refused (a typo is an error that
names the key, not a setting silently ignored)."""

from __future__ import annotations

import msgspec


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass
