"""Modbus meters and sensors (energy, temperature, CO2) over TCP, RTU or RTU-over-TCP.

Each unit has a register map and a timeout of its own: reads go out with no retries,
and the first failed read ends that unit's round, so a dead unit costs one timeout and
never holds up the others on the bus. Units on the same endpoint share one client,
which reconnects by itself. Failed reads are counted per unit and reported.
"""

from __future__ import annotations

from typing import Any

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from edge.collectors.base import PolledCollector
from edge.collectors.modbus.config import ModbusConfig, Unit
from edge.collectors.modbus.registers import Register, RegisterMap, decode, load_map
from wire import Reading


class _ReadError(Exception):
    pass


class ModbusCollector(PolledCollector):
    def __init__(self, config: ModbusConfig, device_id: str) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._units = config.units
        self._maps = {unit.name: load_map(unit.map) for unit in config.units}
        self._clients: dict[tuple[str, ...], Any] = {}
        self.errors = {unit.name: 0 for unit in config.units}

    def collect(self, now_ms: int) -> list[Reading]:
        readings: list[Reading] = []
        for unit in self._units:
            try:
                values = self._read_unit(unit, self._maps[unit.name])
            except _ReadError:
                self.errors[unit.name] += 1
                readings.append(Reading("modbus.unit_up", False, "1", sensor=unit.name))
            else:
                readings += values
                readings.append(Reading("modbus.unit_up", True, "1", sensor=unit.name))
            readings.append(Reading("modbus.errors", self.errors[unit.name], "1", sensor=unit.name))
        return readings

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _read_unit(self, unit: Unit, register_map: RegisterMap) -> list[Reading]:
        client = self._client(unit)
        if not client.connected and not client.connect():
            raise _ReadError
        readings = []
        for register in register_map.registers:
            value = self._read(client, unit, register)
            readings.append(Reading(register.quantity, value, register.unit, sensor=unit.name))
        return readings

    def _read(self, client: Any, unit: Unit, register: Register) -> float | bool:
        reader = {
            "holding": client.read_holding_registers,
            "input": client.read_input_registers,
            "coil": client.read_coils,
            "discrete": client.read_discrete_inputs,
        }[register.table]
        try:
            response = reader(register.address, count=register.count, device_id=unit.device_id)
        except ModbusException:
            raise _ReadError from None
        if response.isError():
            raise _ReadError
        if register.type == "bool":
            return bool(response.bits[0])
        return round(decode(register, list(response.registers)), 6)

    def _client(self, unit: Unit) -> Any:
        if unit.transport == "rtu":
            key: tuple[str, ...] = ("rtu", unit.serial_port)
        else:
            key = (unit.transport, unit.host, str(unit.port))
        client = self._clients.get(key)
        if client is None:
            # Units on one endpoint share its client, and so the first unit's timeout.
            client = self._clients[key] = _new_client(unit)
        return client


def _new_client(unit: Unit) -> Any:
    if unit.transport == "rtu":
        return ModbusSerialClient(
            unit.serial_port,
            framer=FramerType.RTU,
            baudrate=unit.baudrate,
            timeout=unit.timeout_s,
            retries=0,
        )
    framer = FramerType.RTU if unit.transport == "rtu-over-tcp" else FramerType.SOCKET
    return ModbusTcpClient(
        unit.host, port=unit.port, framer=framer, timeout=unit.timeout_s, retries=0
    )
