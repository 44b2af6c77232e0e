"""Modbus register maps: which register holds which quantity, and how to decode it.

Maps are YAML (shipped ones in maps/, or a path), validated at load: every
quantity must be in the catalogue with the catalogue's unit, so a meter's map cannot
publish volts as kilovolts.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from common import yamlconf
from wire import CATALOGUE

SHIPPED = Path(__file__).parent / "maps"
Table = Literal["holding", "input", "coil", "discrete"]
DataType = Literal["bool", "int16", "uint16", "int32", "uint32", "float32", "float64"]
Order = Literal["big", "little"]
_FORMATS = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "float32": "f",
    "float64": "d",
}


class Register(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    quantity: str
    table: Table
    address: Annotated[int, msgspec.Meta(ge=0, le=65535)]
    type: DataType
    unit: str
    byte_order: Order = "big"  # within each 16-bit register
    word_order: Order = "big"  # of the registers of a 32- or 64-bit value
    scale: float = 1.0
    offset: float = 0.0

    @property
    def count(self) -> int:
        """How many registers (or bits) the value spans."""
        if self.type == "bool":
            return 1
        return struct.calcsize(_FORMATS[self.type]) // 2


class RegisterMap(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: str
    registers: Annotated[list[Register], msgspec.Meta(min_length=1)]
    description: str = ""


def load_map(name: str) -> RegisterMap:
    """A shipped map by id (``eastron-sdm120``) or a map file by path."""
    path = SHIPPED / f"{name}.yaml" if "/" not in name else Path(name)
    document = yamlconf.read(path)
    register_map = yamlconf.convert(document, RegisterMap)
    for index, register in enumerate(register_map.registers):
        where = f"$.registers[{index}]"
        quantity = CATALOGUE.get(register.quantity)
        if quantity is None:
            raise document.error(f"{where}.quantity", f"unknown quantity {register.quantity!r}")
        if register.unit != quantity.unit:
            raise document.error(
                f"{where}.unit",
                f"{register.unit!r} for {quantity.name}, expected {quantity.unit!r}",
            )
        if (register.type == "bool") != (register.table in ("coil", "discrete")):
            raise document.error(
                f"{where}.type", "coils and discrete inputs are bool, registers are not"
            )
    return register_map


def decode(register: Register, words: list[int]) -> float:
    """Registers as read from the wire -> the scaled value."""
    ordered = words if register.word_order == "big" else list(reversed(words))
    raw = b"".join(
        word.to_bytes(2, "big") if register.byte_order == "big" else word.to_bytes(2, "little")
        for word in ordered
    )
    (value,) = struct.unpack(">" + _FORMATS[register.type], raw)
    return float(value) * register.scale + register.offset


def encode(register: Register, value: float) -> list[int]:
    """The inverse of ``decode``, for test servers and simulators."""
    raw_value = (value - register.offset) / register.scale
    if register.type not in ("float32", "float64"):
        raw_value = round(raw_value)
    raw = struct.pack(">" + _FORMATS[register.type], raw_value)
    words = [
        int.from_bytes(raw[i : i + 2], "big" if register.byte_order == "big" else "little")
        for i in range(0, len(raw), 2)
    ]
    return words if register.word_order == "big" else list(reversed(words))
