"""What each demo device senses, through the real collectors: a home's BLE air replayed
and its GPIO pins alive, a facility's access point from recorded outputs and its probes
against loopback, its meters over Modbus/TCP from a real server. The profile's
``simulate`` kinds say which."""

from __future__ import annotations

from typing import Any, NamedTuple

from common.city.inventory import DevicePlacement

HOME_BLE_DEVICES = [
    {"name": "living-room", "format": "atc", "address": "A4:C1:38:8D:18:B2"},
    {
        "name": "bedroom",
        "format": "xiaomi",
        "address": "A4:C1:38:02:83:F4",
        "bindkey": "e9ea895fac7cca6d30532432a516f3a8",
    },
    {"name": "entrance", "format": "switchbot", "address": "C1:11:22:33:44:02"},
    {"name": "hall", "format": "switchbot", "address": "C1:11:22:33:44:03"},
    {
        "name": "resident-tag",
        "format": "ibeacon",
        "beacon_id": "e2c56db5dffb48d2b060d0f5a71096e0-100-7",
    },
]
HOME_GPIO_INPUTS = [
    {"name": "bathroom-door", "kind": "door", "pin": 17},
    {"name": "kitchen", "kind": "motion", "pin": 27},
    {"name": "call-button", "kind": "button", "pin": 22},
]
HOME_STAND_INS = {"ble_replay": "home", "gpio": True, "gpio_activity_pins": [17, 27]}
FACILITY_STAND_INS = {"wifi_recordings": "facility"}


class DemoPeers(NamedTuple):
    """Addresses of what the demo runs for devices to talk to."""

    meters_port: int
    connectivity_url: str
    connectivity_port: int


def demo_collectors(
    placement: DevicePlacement, interval_s: float, peers: DemoPeers
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(collector configs, stand-ins) for one device of the example city."""
    kinds = set(placement.profile.simulate)
    collectors: list[dict[str, Any]] = []
    stand_ins: dict[str, Any] = {}
    if kinds & {"door", "motion"}:
        collectors += [
            {
                "type": "ble",
                "interval_s": interval_s,
                "absence_after_s": 60,
                "devices": HOME_BLE_DEVICES,
            },
            {"type": "gpio", "interval_s": max(interval_s, 30.0), "inputs": HOME_GPIO_INPUTS},
        ]
        stand_ins |= HOME_STAND_INS
    if "wifi" in kinds:
        collectors += [
            {
                "type": "wifi",
                "mode": "ap",
                "interval_s": interval_s,
                "timezone": placement.site.timezone,
            },
            {
                "type": "probe",
                "interval_s": max(interval_s * 2, 5.0),
                "probes": [
                    {
                        "type": "tcp",
                        "name": "gateway",
                        "host": "127.0.0.1",
                        "port": peers.connectivity_port,
                        "count": 3,
                    },
                    {"type": "dns", "name": "resolver", "hostname": "localhost"},
                    {"type": "http", "name": "internet", "url": peers.connectivity_url},
                ],
            },
        ]
        stand_ins |= FACILITY_STAND_INS
    if "energy" in kinds:
        collectors.append(
            {
                "type": "modbus",
                "interval_s": interval_s,
                "units": [
                    {
                        "name": "main-meter",
                        "map": "eastron-sdm120",
                        "port": peers.meters_port,
                        "device_id": 1,
                    },
                    {
                        "name": "hall",
                        "map": "rs485-th-co2",
                        "port": peers.meters_port,
                        "device_id": 2,
                    },
                ],
            }
        )
    return collectors, stand_ins
