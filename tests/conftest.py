"""Fixtures that start real Mosquitto, InfluxDB 1.x and VictoriaMetrics instances.

Each listens on a free loopback port with state in the test's temporary directory, so
a test may stop, kill or restart it. A missing binary skips the test with the reason,
except in CI (CI=true), where it fails: CI must never pass by skipping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from civic_iot.services import (
    InfluxDB,
    MissingBinaryError,
    Mosquitto,
    Service,
    VictoriaMetrics,
    in_ci,
)
from tests.provisioning.releases import CityReleases, build_city_releases

S = TypeVar("S", bound=Service)


def start_or_skip(service: S) -> S:
    try:
        service.start()
    except MissingBinaryError as exc:
        if in_ci():
            pytest.fail(f"CI needs every service: {exc}")
        pytest.skip(str(exc))
    return service


def _run(service: S) -> Iterator[S]:
    start_or_skip(service)
    try:
        yield service
    finally:
        service.kill()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    yield from _run(Mosquitto(tmp_path / "mosquitto"))


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxDB]:
    yield from _run(InfluxDB(tmp_path / "influxdb"))


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    yield from _run(VictoriaMetrics(tmp_path / "victoria-metrics"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def city_releases(tmp_path_factory: pytest.TempPathFactory) -> CityReleases:
    """Signed releases built once for the tests that install, update and roll out."""
    return build_city_releases(tmp_path_factory.mktemp("city-releases"))
