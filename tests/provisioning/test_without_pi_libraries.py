"""The inventory does not need the Pi: on a gateway host without gpiozero, pymodbus,
bleak or pySwitchbot, firmware-config with gpio, modbus and BLE collectors loads and
is checked against every collector's schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

PI_ONLY = ("gpiozero", "pymodbus", "bleak", "switchbot")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys
    from pathlib import Path

    class NotOnThisHost(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {pi_only}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (not on this host)")
            return None

    sys.meta_path.insert(0, NotOnThisHost())

    import yaml
    from common import yamlconf
    from common.city.inventory import load_inventory
    from edge.collectors import REGISTRY, collector_config, sample_path

    for kind in sorted(REGISTRY):
        document = yamlconf.Document(kind, yaml.safe_load(sample_path(kind).read_text()))
        for index in range(len(document.data)):
            collector_config(document, f"$[{{index}}]")
    inventory = load_inventory(Path(sys.argv[1]), collector_config)
    kinds = {{c["type"] for p in inventory.devices.values() for c in p.collectors()}}
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {pi_only})
    print("checked", len(REGISTRY), "collector types;", "inventory kinds", sorted(kinds),
          "; Pi libraries loaded:", loaded)
    """
).format(pi_only=repr(set(PI_ONLY)))


def test_every_collector_config_and_the_inventory_load_without_the_pis_libraries(
    tmp_path: Path, repo_root: Path
) -> None:
    city = tmp_path / "firmware-config"
    shutil.copytree(repo_root / "firmware-config", city)
    # A facility whose Pi runs the hardware collectors, listed as the city would.
    (city / "sites" / "hall-z.yaml").write_text(
        "id: hall-z\nkind: facility\nname: {ja: ホール, en: Hall}\n"
        "devices:\n  - id: hall-z-pi\n    profile: facility-energy\n    collectors:\n"
        + "".join(
            "      " + line + "\n"
            for kind in ("gpio", "modbus", "ble")
            for line in (repo_root / "edge" / "collectors" / kind / "sample.yaml")
            .read_text(encoding="utf-8")
            .splitlines()
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(city)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "checked 7 collector types" in result.stdout
    assert "'ble'" in result.stdout and "'gpio'" in result.stdout and "'modbus'" in result.stdout
    assert result.stdout.rstrip().endswith("Pi libraries loaded: []"), result.stdout
