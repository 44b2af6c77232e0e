"""InfluxDB line protocol, written by hand because it sits on the ingest hot path.

tests/gateway/test_lineprotocol.py checks it against influxdb-client's own Point.
"""

from __future__ import annotations

from collections.abc import Mapping

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})

FieldValue = float | int | bool


def line(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, FieldValue], ts_ms: int
) -> str:
    """One point, timestamp in milliseconds (write with precision=ms)."""
    head = measurement.translate(_MEASUREMENT)
    tag_text = "".join(
        f",{key.translate(_KEY)}={value.translate(_KEY)}"
        for key, value in sorted(tags.items())
        if value
    )
    field_text = ",".join(
        f"{key.translate(_KEY)}={_value(value)}" for key, value in sorted(fields.items())
    )
    return f"{head}{tag_text} {field_text} {ts_ms}"


def _value(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    text = repr(float(value))
    # "21" without a suffix is still a float in line protocol; influxdb-client writes
    # integral floats that way, and so do we.
    return text[:-2] if text.endswith(".0") else text
