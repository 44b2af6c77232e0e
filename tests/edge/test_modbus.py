"""The Modbus collector against a real pymodbus server started in this process."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymodbus.framer import FramerType

from civic_iot.standins.modbus_meter import MeterServer
from common.yamlconf import ConfigError
from edge.collectors.modbus.collector import ModbusCollector
from edge.collectors.modbus.config import ModbusConfig, Unit
from edge.collectors.modbus.registers import Register, decode, encode, load_map

METER = {
    "energy.voltage": 101.5,
    "energy.current": 4.25,
    "energy.power": 431.0,
    "energy.frequency": 50.0,
    "energy.energy": 15234.5,
}
AIR = {"climate.humidity": 41.3, "climate.temperature": -3.2, "climate.co2": 812.0}


@pytest.fixture
def server() -> Iterator[MeterServer]:
    meters = MeterServer(
        {1: (load_map("eastron-sdm120"), METER), 2: (load_map("rs485-th-co2"), AIR)}
    ).start()
    yield meters
    meters.stop()


def by_sensor(readings: list) -> dict[tuple[str, str], object]:
    return {(r.sensor, r.quantity): r.value for r in readings}


def test_reads_a_meter_and_a_co2_sensor_by_their_maps(server: MeterServer) -> None:
    collector = ModbusCollector(
        ModbusConfig(
            type="modbus",
            units=[
                Unit(name="main-meter", map="eastron-sdm120", port=server.port, device_id=1),
                Unit(name="hall-air", map="rs485-th-co2", port=server.port, device_id=2),
            ],
        ),
        "welfare-meter1",
    )
    values = by_sensor(collector.collect(0))
    for quantity, value in METER.items():
        assert values[("main-meter", quantity)] == pytest.approx(value, rel=1e-6)
    assert values[("hall-air", "climate.temperature")] == pytest.approx(-3.2)
    assert values[("hall-air", "climate.co2")] == 812.0
    assert values[("main-meter", "modbus.unit_up")] is True
    assert values[("hall-air", "modbus.errors")] == 0
    collector.close()


class SilentUnit:
    """A Modbus TCP peer that accepts and reads requests but never answers; it counts
    the requests (each 12 bytes: MBAP header and a read PDU)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.received = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def port(self) -> int:
        return int(self.server.getsockname()[1])

    def requests(self) -> int:
        return self.received // 12

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(4096):
                self.received += len(data)


def test_a_dead_unit_costs_one_timeout_and_blocks_no_one(server: MeterServer) -> None:
    silent = SilentUnit()
    collector = ModbusCollector(
        ModbusConfig(
            type="modbus",
            units=[
                Unit(name="dead", map="eastron-sdm120", port=silent.port(), timeout_s=0.3),
                Unit(name="main-meter", map="eastron-sdm120", port=server.port),
            ],
        ),
        "d",
    )
    values = by_sensor(collector.collect(0))
    # One request, then the unit's round ends: not 5 registers, and no retries.
    assert silent.requests() == 1
    assert values[("dead", "modbus.unit_up")] is False
    assert values[("main-meter", "energy.voltage")] == pytest.approx(101.5)
    values = by_sensor(collector.collect(0))
    assert values[("dead", "modbus.errors")] == 2
    assert silent.requests() == 2
    collector.close()
    silent.server.close()


def test_reconnects_after_the_unit_comes_back(tmp_path: Path) -> None:
    meters = MeterServer({1: (load_map("eastron-sdm120"), METER)})
    unit = Unit(name="m", map="eastron-sdm120", port=meters.port, timeout_s=0.5)
    collector = ModbusCollector(ModbusConfig(type="modbus", units=[unit]), "d")
    assert by_sensor(collector.collect(0))[("m", "modbus.unit_up")] is False  # not up yet
    meters.start()
    try:
        assert by_sensor(collector.collect(0))[("m", "energy.power")] == pytest.approx(431.0)
    finally:
        meters.stop()
        collector.close()


def test_rtu_framing_over_tcp() -> None:
    meters = MeterServer({3: (load_map("rs485-th-co2"), AIR)}, framer=FramerType.RTU).start()
    try:
        unit = Unit(
            name="air", map="rs485-th-co2", transport="rtu-over-tcp", port=meters.port, device_id=3
        )
        values = by_sensor(
            ModbusCollector(ModbusConfig(type="modbus", units=[unit]), "d").collect(0)
        )
        assert values[("air", "climate.humidity")] == pytest.approx(41.3)
    finally:
        meters.stop()


@pytest.mark.parametrize(
    ("kind", "byte_order", "word_order", "value"),
    [
        ("int16", "big", "big", -1234),
        ("uint16", "little", "big", 65000),
        ("int32", "big", "little", -70000),
        ("uint32", "little", "little", 4_000_000_000),
        ("float32", "big", "little", 3.5),
        ("float64", "little", "big", -1.0e10),
    ],
)
def test_every_type_and_order_round_trips(
    kind: str, byte_order: str, word_order: str, value: float
) -> None:
    register = Register("energy.power", "holding", 0, kind, "W", byte_order, word_order)  # type: ignore[arg-type]
    assert decode(register, encode(register, value)) == value


def test_word_order_matters() -> None:
    big = Register("energy.power", "input", 0, "float32", "W")
    little = Register("energy.power", "input", 0, "float32", "W", word_order="little")
    assert encode(big, 230.5) == list(reversed(encode(little, 230.5)))


def test_a_map_with_the_wrong_unit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: bad\nregisters:\n  - {quantity: energy.voltage, table: input, address: 0, type: float32, unit: kV}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_map(str(path))
    assert (info.value.line, info.value.key) == (3, "registers[0].unit")
    assert "expected 'V'" in info.value.reason
