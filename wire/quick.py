"""The receivers' fast way to a message whose every reading is plausible.

The gateway decodes thousands of messages a second, most of them faultless. Here each
quantity has its own msgspec type (a union tagged by ``quantity``), so msgspec checks in
C what wire/payloads.py checks reading by reading: a known quantity, its unit, a value
of its type inside its physical range, timestamps in range, no unknown key. A message's
shape (its readings' quantities and sensors, in order) is kept once seen, with its
sensor names checked then: a device sends the same shape each time, and a receiver
keys by it what it works out once (key count, sensor names, line templates). Whatever
is not faultless gets ``None`` here and the exact path in
``wire.payloads.decode_plausible``, which keeps the plausible readings and names what
is wrong with each other one. So the fast path accepts nothing the exact one refuses;
what it passes on though faultless (a key written out with its default value, say)
costs only time. The types are built on first use: an agent never decodes telemetry
and should not carry them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Collection
from typing import Annotated, Any, Literal, TypeAlias, Union

import msgspec

from wire.quantities import CATALOGUE, Quantity, ValueType

Check: TypeAlias = Callable[[str], bool]
QuickDecoder: TypeAlias = "msgspec.json.Decoder[Any]"
_LIMIT = 2**62  # inside it a value is finite and fits 64 bits, whatever the quantity says
_SENSORS_KEPT_MAX = 100_000
_SHAPES_KEPT_MAX = 4096


def _value_type(quantity: Quantity) -> Any:
    low, high = max(quantity.low, -float(_LIMIT)), min(quantity.high, float(_LIMIT))
    as_int = Annotated[int, msgspec.Meta(ge=math.ceil(low), le=math.floor(high))]
    if quantity.type is ValueType.BOOL:
        return bool
    if quantity.type is ValueType.INT:
        return as_int
    # JSON's 41 stays the int 41 for a float quantity, as the exact path keeps it.
    return Union[as_int, Annotated[float, msgspec.Meta(ge=low, le=high)]]  # noqa: UP007


def _reading_type(quantity: Quantity, sensor: Any, epoch_ms: Any) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        "Quick_" + quantity.name.replace(".", "_"),
        [
            ("value", _value_type(quantity)),
            ("unit", Literal[quantity.unit]),
            ("sensor", sensor, ""),
            ("ts", Union[epoch_ms, None], None),  # noqa: UP007
        ],
        tag_field="quantity",
        tag=quantity.name,
        forbid_unknown_fields=True,
        gc=False,
        namespace={"quantity": quantity.name},  # what a reader asks, as of a Reading
    )


def message_decoder(
    *, schema: int, epoch_ms: Any, seq: Any, max_readings: int, max_sensor: int
) -> QuickDecoder:
    """A decoder of messages whose readings all pass the catalogue's checks (the
    message's own limits given by the caller, who owns them)."""
    sensor = Annotated[str, msgspec.Meta(max_length=max_sensor)]
    reading: Any = Union[tuple(_reading_type(q, sensor, epoch_ms) for q in CATALOGUE.values())]  # noqa: UP007
    readings = Annotated[list[reading], msgspec.Meta(min_length=1, max_length=max_readings)]
    fields = [("schema", Literal[schema]), ("seq", seq), ("ts", epoch_ms), ("readings", readings)]
    message = msgspec.defstruct("QuickMessage", fields, forbid_unknown_fields=True)
    return msgspec.json.Decoder(message)


class SensorNames:
    """Sensor names already found good, so a name costs a set lookup after its first
    message (bounded: past the limit a name is checked every time)."""

    def __init__(self, good: Check) -> None:
        self._good = good
        self._known: set[str] = set()

    def all_good(self, names: Collection[str]) -> bool:
        if self._known.issuperset(names):
            return True
        new = set(names) - self._known
        for name in new:
            if not self._good(name):
                return False
        if new and len(self._known) < _SENSORS_KEPT_MAX:
            self._known |= new
        return True


class MessageShape:
    """The readings of the usual message, quantity and sensor in order, none with a time
    of its own: what every message of this shape has in common (a device sends the same
    shape each time). One object per shape, compared by identity, so a receiver can key
    what it works out from a message by its shape instead of looking at every reading."""

    __slots__ = ("keys", "quantities", "sensors")

    def __init__(self, quantities: tuple[str, ...], sensors: tuple[str, ...]) -> None:
        self.quantities = quantities
        self.sensors = sensors
        # schema, seq, ts and readings; quantity, value and unit of each reading; each
        # sensor given (a time of a reading's own would be one key more).
        self.keys = 4 + 3 * len(quantities) + len(sensors) - sensors.count("")


class Shapes:
    """The message shapes seen, each with sensor names found good (bounded: past the
    limit it starts again empty)."""

    def __init__(self, good: Check) -> None:
        self._good = good
        self._known: dict[tuple[tuple[str, ...], tuple[str, ...]], MessageShape | None] = {}

    def of(self, quantities: tuple[str, ...], sensors: tuple[str, ...]) -> MessageShape | None:
        """The shape of these readings; None when a sensor name is not good."""
        key = (quantities, sensors)
        shape = self._known.get(key, _UNSEEN)
        if shape is _UNSEEN:
            shape = self._add(quantities, sensors)
        return shape

    def _add(self, quantities: tuple[str, ...], sensors: tuple[str, ...]) -> MessageShape | None:
        if len(self._known) >= _SHAPES_KEPT_MAX:
            self._known.clear()
        # Interned: the decoded message's own strings would be kept once per shape.
        quantities = tuple(map(sys.intern, quantities))
        sensors = tuple(map(sys.intern, sensors))
        good = all(map(self._good, set(sensors)))
        shape = self._known[(quantities, sensors)] = (
            MessageShape(quantities, sensors) if good else None
        )
        return shape


_UNSEEN = MessageShape((), ())
