"""A real pymodbus TCP server in this process, holding register values from a map."""

from __future__ import annotations

import asyncio
import threading

from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer

from civic_iot.services import free_port
from edge.collectors.modbus_map import RegisterMap, encode


class MeterServer:
    def __init__(
        self,
        devices: dict[int, tuple[RegisterMap, dict[str, float]]],
        framer: FramerType = FramerType.SOCKET,
    ) -> None:
        self.port = free_port()
        self.contexts = {}
        for device_id, (register_map, values) in devices.items():
            holding, inputs = [0] * 1024, [0] * 1024
            for register in register_map.registers:
                table = holding if register.table == "holding" else inputs
                words = encode(register, values[register.quantity])
                table[register.address : register.address + len(words)] = words
            # pymodbus data blocks are addressed from 1; protocol address 0 is index 1.
            self.contexts[device_id] = ModbusDeviceContext(
                hr=ModbusSequentialDataBlock(1, holding), ir=ModbusSequentialDataBlock(1, inputs)
            )
        self._framer = framer
        self._loop = asyncio.new_event_loop()
        self._server: ModbusTcpServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> MeterServer:
        self._thread.start()
        ready = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        ready.result(timeout=10)
        return self

    async def _serve(self) -> None:
        context = ModbusServerContext(devices=self.contexts, single=False)
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
