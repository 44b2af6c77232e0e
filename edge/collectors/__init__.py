"""Collector registry: one line per collector type, each a module of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civic_iot import yamlconf
from edge.collectors import simulated, system
from edge.collectors.base import Collector

# type name -> (config struct, factory(config, device_id))
REGISTRY: dict[str, tuple[type[Any], Callable[[Any, str], Collector]]] = {
    "system": (system.SystemConfig, system.SystemCollector),
    "simulated": (simulated.SimulatedConfig, simulated.SimulatedCollector),
}


def collector_config(document: yamlconf.Document, at: str) -> Any:
    """Validate the collector config at path ``at`` of ``document``; its typed struct."""
    raw = yamlconf.value_at(document.data, at)
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise document.error(f"{at}.type", f"expected one of {known}, found {kind!r}")
    return yamlconf.convert(document, REGISTRY[kind][0], at=at)


def build_collector(document: yamlconf.Document, at: str, device_id: str) -> Collector:
    """Validate the collector config at path ``at`` of ``document`` and build it."""
    config = collector_config(document, at)
    return REGISTRY[config.type][1](config, device_id)


__all__ = ["REGISTRY", "Collector", "build_collector", "collector_config"]
