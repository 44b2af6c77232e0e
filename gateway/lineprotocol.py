"""InfluxDB line protocol, written by hand because it sits on the ingest hot path.

tests/gateway/test_lineprotocol.py checks it against influxdb-client's own Point.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from operator import methodcaller

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})

FieldValue = float | int | bool | str
_STRING = str.maketrans({"\\": "\\\\", '"': '\\"'})


def line(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, FieldValue], ts_ms: int
) -> str:
    """One point, timestamp in milliseconds (write with precision=ms)."""
    return f"{series_key(measurement, tags)} {field_set(fields)} {ts_ms}"


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...``: the part of a line a caller may cache per series."""
    head = measurement.translate(_MEASUREMENT)
    return head + "".join(
        f",{key.translate(_KEY)}={value.translate(_KEY)}"
        for key, value in sorted(tags.items())
        if value
    )


def field_set(fields: Mapping[str, FieldValue]) -> str:
    if len(fields) == 1:  # most points carry one field
        ((key, value),) = fields.items()
        return f"{field_key(key)}={field_value(value)}"
    return ",".join(
        f"{field_key(key)}={field_value(value)}" for key, value in sorted(fields.items())
    )


def point_count(lines: list[str]) -> int:
    """Points in a list whose items may each hold several lines, joined by newlines."""
    newlines: int = sum(map(_NEWLINES, lines))
    return newlines + len(lines)


_NEWLINES = methodcaller("count", "\n")


@functools.lru_cache(maxsize=4096)
def field_key(key: str) -> str:
    return key.translate(_KEY)


def field_value(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, str):
        return f'"{value.translate(_STRING)}"'
    text = repr(float(value))
    # "21" without a suffix is still a float in line protocol; influxdb-client writes
    # integral floats that way, and so do we.
    return text[:-2] if text.endswith(".0") else text
