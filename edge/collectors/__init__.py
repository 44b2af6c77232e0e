"""Collector registry: one line per collector type, each a module of its own.

Modules are imported only when a config uses them, so a Pi that runs no BLE collector
never loads a BLE library (the agent's memory budget counts every import).
"""

from __future__ import annotations

import importlib
from typing import Any

from civic_iot import yamlconf
from edge.collectors.base import Collector

# type name -> (module, config struct, collector class)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "system": ("edge.collectors.system", "SystemConfig", "SystemCollector"),
    "simulated": ("edge.collectors.simulated", "SimulatedConfig", "SimulatedCollector"),
    "wifi": ("edge.collectors.wifi", "WifiConfig", "WifiCollector"),
    "probe": ("edge.collectors.probe", "ProbeConfig", "ProbeCollector"),
    "modbus": ("edge.collectors.modbus", "ModbusConfig", "ModbusCollector"),
    "gpio": ("edge.collectors.gpio", "GpioConfig", "GpioCollector"),
    "ble": ("edge.collectors.ble", "BleConfig", "BleCollector"),
}


def _load(kind: str) -> tuple[type[Any], type[Any]]:
    module_name, config_name, collector_name = REGISTRY[kind]
    module = importlib.import_module(module_name)
    return getattr(module, config_name), getattr(module, collector_name)


def collector_config(document: yamlconf.Document, at: str) -> Any:
    """Validate the collector config at path ``at`` of ``document``; its typed struct."""
    raw = yamlconf.value_at(document.data, at)
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise document.error(f"{at}.type", f"expected one of {known}, found {kind!r}")
    return yamlconf.convert(document, _load(kind)[0], at=at)


def build_collector(document: yamlconf.Document, at: str, device_id: str) -> Collector:
    """Validate the collector config at path ``at`` of ``document`` and build it."""
    config = collector_config(document, at)
    collector: Collector = _load(config.type)[1](config, device_id)
    return collector


def build_collectors(document: yamlconf.Document, device_id: str) -> list[Collector]:
    """Every collector at ``$.collectors`` of ``document``; names must be distinct."""
    collectors: list[Collector] = []
    for index in range(len(yamlconf.value_at(document.data, "$.collectors"))):
        collector = build_collector(document, f"$.collectors[{index}]", device_id)
        if any(other.name == collector.name for other in collectors):
            raise document.error(
                f"$.collectors[{index}]",
                f"a second collector named {collector.name!r}; give it a distinct 'name'",
            )
        collectors.append(collector)
    return collectors


__all__ = ["REGISTRY", "Collector", "build_collector", "build_collectors", "collector_config"]
