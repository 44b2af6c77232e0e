"""Collector registry: one line per collector type, each a folder of its own
(Telegraf's model): ``edge/collectors/<type>/`` holds ``collector.py``, ``config.py``
(its schema, with no hardware library, so any machine can check a config) and
``sample.yaml``.

Modules are imported only when a config uses them, so a Pi that runs no BLE collector
never loads a BLE library (the agent's memory budget counts every import), and checking
a config imports only its schema.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, NamedTuple

from common import yamlconf
from edge.collectors.base import Collector


class Plugin(NamedTuple):
    package: str  # holds config.py and collector.py
    config: str  # the config struct in config.py
    collector: str  # the collector class in collector.py


# type name -> where it lives: registering a collector is one line here.
REGISTRY: dict[str, Plugin] = {
    "system": Plugin("edge.collectors.system", "SystemConfig", "SystemCollector"),
    "simulated": Plugin("edge.collectors.simulated", "SimulatedConfig", "SimulatedCollector"),
    "wifi": Plugin("edge.collectors.wifi", "WifiConfig", "WifiCollector"),
    "probe": Plugin("edge.collectors.probe", "ProbeConfig", "ProbeCollector"),
    "modbus": Plugin("edge.collectors.modbus", "ModbusConfig", "ModbusCollector"),
    "gpio": Plugin("edge.collectors.gpio", "GpioConfig", "GpioCollector"),
    "ble": Plugin("edge.collectors.ble", "BleConfig", "BleCollector"),
}


log = logging.getLogger(__name__)
# Hardware stand-ins per collector type (keyword arguments of its constructor: a pin
# factory, an advertisement source, a command runner). Empty on a real Pi; the demo and
# bench set them once at start with use_stand_ins(), so remote configs get them too.
_STAND_INS: dict[str, dict[str, Any]] = {}


def use_stand_ins(by_type: dict[str, dict[str, Any]]) -> None:
    unknown = set(by_type) - set(REGISTRY)
    if unknown:
        raise ValueError(f"stand-ins for unknown collector types: {', '.join(sorted(unknown))}")
    _STAND_INS.clear()
    _STAND_INS.update(by_type)


def _config_type(kind: str) -> type[Any]:
    plugin = REGISTRY[kind]
    config_type: type[Any] = getattr(
        importlib.import_module(f"{plugin.package}.config"), plugin.config
    )
    return config_type


def _collector_type(kind: str) -> type[Any]:
    plugin = REGISTRY[kind]
    module = importlib.import_module(f"{plugin.package}.collector")
    collector_type: type[Any] = getattr(module, plugin.collector)
    return collector_type


def sample_path(kind: str) -> Path:
    """The collector's sample config (the README shows it; a test loads it)."""
    return Path(__file__).parent / kind / "sample.yaml"


def collector_config(document: yamlconf.Document, at: str) -> Any:
    """Validate the collector config at path ``at`` of ``document``; its typed struct."""
    raw = yamlconf.value_at(document.data, at)
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise document.error(f"{at}.type", f"expected one of {known}, found {kind!r}")
    return yamlconf.convert(document, _config_type(kind), at=at)


def build_collector(document: yamlconf.Document, at: str, device_id: str) -> Collector:
    """Validate the collector config at path ``at`` of ``document`` and build it."""
    config = collector_config(document, at)
    collector: Collector = _collector_type(config.type)(
        config, device_id, **_STAND_INS.get(config.type, {})
    )
    return collector


def build_collectors(document: yamlconf.Document, device_id: str) -> list[Collector]:
    """Every collector at ``$.collectors`` of ``document``; names must be distinct."""
    collectors: list[Collector] = []
    try:
        for index in range(len(yamlconf.value_at(document.data, "$.collectors"))):
            collector = build_collector(document, f"$.collectors[{index}]", device_id)
            collectors.append(collector)
            if any(other.name == collector.name for other in collectors[:-1]):
                raise document.error(
                    f"$.collectors[{index}]",
                    f"a second collector named {collector.name!r}; give it a distinct 'name'",
                )
    except Exception:
        close_collectors(collectors)  # nothing half-built keeps a pin or a radio
        raise
    return collectors


def close_collectors(collectors: list[Collector]) -> None:
    """Release what collectors hold (pins, radios, serial ports) before others claim it."""
    for collector in collectors:
        try:
            collector.close()
        except Exception as exc:  # noqa: BLE001 - closing one must not keep others open
            log.warning("closing collector %r: %s: %s", collector.name, type(exc).__name__, exc)


__all__ = [
    "REGISTRY",
    "Collector",
    "Plugin",
    "build_collector",
    "build_collectors",
    "close_collectors",
    "collector_config",
    "sample_path",
    "use_stand_ins",
]
