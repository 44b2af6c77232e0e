"""The fast path to a faultless message accepts nothing the exact decoder refuses, reads
the same readings, and takes every accepted message as agents encode it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wire import CATALOGUE, Message, PayloadError, ValueType, decode, encode, now_ms
from wire.payloads import decode_faultless, decode_plausible, decode_readings

QUANTITIES = sorted(CATALOGUE)
NOW = now_ms()


def _value(quantity: str, draw: st.DrawFn) -> Any:
    spec = CATALOGUE[quantity]
    if spec.type is ValueType.BOOL:
        return draw(st.booleans())
    low, high = max(spec.low, -1e15), min(spec.high, 1e15)
    if spec.type is ValueType.INT:
        return draw(st.integers(int(low), int(high)))
    return draw(st.floats(low, high) | st.integers(int(low) + 1, int(high)))


# What a device may get wrong: each breaks one thing of a faultless reading.
FAULTS: dict[str, Any] = {
    "unit": lambda r: {**r, "unit": r["unit"] + "x"},
    "quantity": lambda r: {**r, "quantity": "climate.colour"},
    "range": lambda r: {**r, "value": 1e300},
    "huge integer": lambda r: {**r, "value": 10**30},
    "bool for a number": lambda r: {**r, "value": True},
    "float for an integer": lambda r: {**r, "value": 2.5},
    "string value": lambda r: {**r, "value": "21"},
    "mac sensor": lambda r: {**r, "sensor": "a4-c1-38-0b-22-7e"},
    "capital sensor": lambda r: {**r, "sensor": "Kitchen"},
    "long sensor": lambda r: {**r, "sensor": "s" * 65},
    "extra key": lambda r: {**r, "colour": "red"},
    "missing unit": lambda r: {k: v for k, v in r.items() if k != "unit"},
    "old time": lambda r: {**r, "ts": 1_000},
    "null sensor": lambda r: {**r, "sensor": None},
}


@st.composite
def readings(draw: st.DrawFn) -> dict[str, Any]:
    quantity = draw(st.sampled_from(QUANTITIES))
    reading: dict[str, Any] = {"quantity": quantity, "value": _value(quantity, draw),
                               "unit": CATALOGUE[quantity].unit}  # fmt: skip
    if draw(st.booleans()):
        reading["sensor"] = draw(st.from_regex(r"[a-z0-9-]{0,12}", fullmatch=True))
    if draw(st.booleans()):
        reading["ts"] = NOW - draw(st.integers(0, 10**9))
    fault = draw(st.sampled_from([None] * 6 + sorted(FAULTS)))
    return reading if fault is None else FAULTS[fault](reading)


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    message = {"schema": draw(st.sampled_from([1, 1, 1, 2])), "seq": draw(st.integers(0, 99)),
               "ts": NOW, "readings": draw(st.lists(readings(), min_size=0, max_size=6))}  # fmt: skip
    text = json.dumps(message, separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    if draw(st.integers(0, 9)) == 0:  # a key given twice
        text = text.replace('"value":', '"value": 1, "value":', 1)
    return text.encode()


def _fields(message: Any) -> list[tuple[Any, ...]]:
    return [(r.quantity, r.value, type(r.value), r.unit, r.sensor, r.ts)
            for r in message.readings]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(payloads())
def test_the_fast_path_takes_only_what_the_exact_decoder_takes_and_every_agents_message(
    payload: bytes,
) -> None:
    try:
        exact: Message | None = decode(payload, Message)
    except PayloadError:
        exact = None
    fast = decode_faultless(payload)
    if fast is not None:  # never more than the exact decoder, never other readings
        assert exact is not None, payload
        assert (fast.schema, fast.seq, fast.ts) == (exact.schema, exact.seq, exact.ts)
        assert _fields(fast) == _fields(exact)
    if exact is not None:  # what is accepted, as an agent encodes it, goes the fast way
        assert decode_faultless(encode(exact)) is not None, payload
        # A shape says what the readings are, and that none has a time of its own.
        shape = decode_readings(payload).shape
        if shape is not None:
            assert shape.quantities == tuple(r.quantity for r in exact.readings)
            assert shape.sensors == tuple(r.sensor for r in exact.readings)
            assert all(r.ts is None for r in exact.readings), payload
            assert decode_readings(encode(exact)).shape is shape  # one object per shape


def test_a_faulty_reading_still_gets_its_exact_reason_and_the_others_are_kept() -> None:
    good = {"quantity": "climate.temperature", "value": 21.5, "unit": "Cel", "sensor": "kitchen"}
    hot = {**good, "sensor": "bath", "value": 500.0}
    payload = json.dumps({"schema": 1, "seq": 1, "ts": NOW, "readings": [good, hot]}).encode()
    assert decode_faultless(payload) is None
    message, problems = decode_plausible(payload)
    assert [r.sensor for r in message.readings] == ["kitchen"]
    assert [p.where for p in problems] == ["$.readings[1].value"]
    assert "outside the possible range" in problems[0].reason
