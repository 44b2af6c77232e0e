"""The alert notifier on a real store, with the example city and fictitious residents."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alerts.config import AlertsConfig, EmailConfig
from alerts.notifier import Notifier
from alerts.routing import Router, Signer
from alerts.rules import DEFAULT_RULES, load_rules
from alerts.store import Store
from common.city.inventory import load_inventory
from common.city.residents import load_residents


@pytest.fixture
def notifier(tmp_path: Path, repo_root: Path) -> Notifier:
    residents = tmp_path / "residents.yaml"
    shutil.copy(repo_root / "examples" / "residents.fictitious.yaml", residents)
    inventory = load_inventory(repo_root / "firmware-config")
    config = AlertsConfig(
        alerts_id="alerts-1",
        email=EmailConfig(url="mailto://127.0.0.1:25?from=alerts@abashiri.example"),
        it_channels=["json://127.0.0.1:9/it"],
    )
    router = Router(config, inventory, load_residents(residents, inventory))
    rules = load_rules([DEFAULT_RULES])
    signer = Signer(tmp_path / "secret", "https://alerts.example")
    return Notifier(Store(tmp_path / "alerts.sqlite3"), config, router, rules, signer)
