"""The demo's stand-ins for what sits on a facility's network: its energy meter and CO2
sensor behind a Modbus gateway (a real pymodbus server), and the connectivity-check URL
the Wi-Fi probe fetches (a real HTTP server answering 204)."""

from __future__ import annotations

import http.server
import math
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from civic_iot.services import free_port
from civic_iot.standins.modbus_meter import MeterServer, Values
from edge.collectors.modbus.registers import load_map

ENERGY_UNIT, CLIMATE_UNIT = 1, 2


class FacilityMeters:
    """An SDM120 energy meter (unit 1) and a CO2 sensor (unit 2) whose readings follow
    the facility's day: more power and CO2 while it is open."""

    def __init__(self, timezone: str = "Asia/Tokyo") -> None:
        self._zone = ZoneInfo(timezone)
        self._energy_kwh = 18_250.0
        self._last = time.monotonic()
        self.server = MeterServer(
            {
                ENERGY_UNIT: (load_map("eastron-sdm120"), self.values(ENERGY_UNIT)),
                CLIMATE_UNIT: (load_map("rs485-th-co2"), self.values(CLIMATE_UNIT)),
            },
            live=self.values,
        )

    def _occupancy(self) -> float:
        now = datetime.now(self._zone)
        hour = now.hour + now.minute / 60
        return max(0.0, math.sin((hour - 8) / 12 * math.pi)) if 8 <= hour < 20 else 0.0

    def values(self, unit: int) -> Values:
        occupancy = self._occupancy()
        if unit == CLIMATE_UNIT:
            return {
                "climate.humidity": round(38 + 8 * occupancy, 1),
                "climate.temperature": round(20.5 + 1.5 * occupancy, 1),
                "climate.co2": float(round(430 + 900 * occupancy)),
            }
        power_w = 350 + 2_600 * occupancy
        moment = time.monotonic()
        self._energy_kwh += power_w * (moment - self._last) / 3_600_000
        self._last = moment
        return {
            "energy.voltage": round(101.5 - 2 * occupancy, 1),
            "energy.current": round(power_w / 100.0, 2),
            "energy.power": round(power_w, 1),
            "energy.frequency": 50.0,  # eastern Japan
            "energy.energy": round(self._energy_kwh, 3),
        }


class _ConnectivityCheck(http.server.BaseHTTPRequestHandler):
    down_until = 0.0  # monotonic; set by ConnectivityCheck.outage

    def do_GET(self) -> None:
        self.send_response(503 if time.monotonic() < self.down_until else 204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


class ConnectivityCheck:
    """A generate_204-style URL on loopback."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _ConnectivityCheck)
        self.url = f"http://127.0.0.1:{self.port}/generate_204"

    def start(self) -> ConnectivityCheck:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def outage(self, seconds: float) -> None:
        """The Internet behind the facility's Wi-Fi is gone for a while."""
        _ConnectivityCheck.down_until = time.monotonic() + seconds

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
