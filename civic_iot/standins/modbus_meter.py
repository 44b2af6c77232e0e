"""A real pymodbus TCP server in this process, holding register values from maps:
the tests' protocol peer and the demo's meters. With ``live``, every read answers the
values ``live(unit)`` gives at that moment (a meter whose counters move)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer

from civic_iot.services import free_port
from edge.collectors.modbus.registers import RegisterMap, encode

# pymodbus 3.16 warns that the datastore this stand-in serves from goes away in 4.0 (the
# version is pinned below it), and says "Server listening": neither is for the person
# watching the demo, whose first screen it was.
logging.getLogger("pymodbus.logging").setLevel(logging.ERROR)

Values = dict[str, float]
_TABLE_BY_FUNCTION = {3: "holding", 4: "input"}


def _tables(register_map: RegisterMap, values: Values) -> dict[str, list[int]]:
    tables = {"holding": [0] * 1024, "input": [0] * 1024}
    for register in register_map.registers:
        words = encode(register, values[register.quantity])
        table = "holding" if register.table == "holding" else "input"
        tables[table][register.address : register.address + len(words)] = words
    return tables


class MeterServer:
    def __init__(
        self,
        devices: dict[int, tuple[RegisterMap, Values]],
        framer: FramerType = FramerType.SOCKET,
        live: Callable[[int], Values] | None = None,
    ) -> None:
        self.port = free_port()
        self.contexts: dict[int, ModbusDeviceContext | Any] = {}
        for unit, (register_map, values) in devices.items():
            tables = _tables(register_map, values)
            # pymodbus data blocks are addressed from 1; protocol address 0 is index 1.
            context = ModbusDeviceContext(
                hr=ModbusSequentialDataBlock(1, tables["holding"]),
                ir=ModbusSequentialDataBlock(1, tables["input"]),
            )
            if live is not None:
                context.simdevice.action = self._answer_live(unit, register_map, live)
            self.contexts[unit] = context
        self._framer = framer
        self._loop = asyncio.new_event_loop()
        self._server: ModbusTcpServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @staticmethod
    def _answer_live(
        unit: int, register_map: RegisterMap, live: Callable[[int], Values]
    ) -> Callable[..., Any]:
        async def action(  # noqa: PLR0917 - pymodbus calls it with these six
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            current_registers: list[int],
            set_values: Any,
        ) -> None:
            table = _TABLE_BY_FUNCTION.get(function_code)
            if table is None:
                return
            words = _tables(register_map, live(unit))[table]
            # current_registers[i] answers protocol address start_address + i
            for index in range(len(current_registers)):
                source = start_address + index
                if 0 <= source < len(words):
                    current_registers[index] = words[source]

        return action

    def start(self) -> MeterServer:
        self._thread.start()
        ready = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        ready.result(timeout=10)
        return self

    async def _serve(self) -> None:
        context = ModbusServerContext(devices=dict(self.contexts), single=False)
        self._server = ModbusTcpServer(
            context, address=("127.0.0.1", self.port), framer=self._framer
        )
        asyncio.get_running_loop().create_task(self._server.serve_forever())
        await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
