"""The open-data AP list follows the government's template, row for row."""

import csv
import io
from pathlib import Path

from civic_iot.cli import main
from common.city.inventory import load_inventory
from dashboards.opendata import HEADER, access_points_csv

TEMPLATE = (
    Path(__file__).parent / "fixtures" / "18_opendata-template_public_wireless_lan_header.csv"
)


def test_the_header_is_the_templates(repo_root: Path) -> None:
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# source:")  # the sample's attribution line
    assert tuple(next(csv.reader([lines[1]]))) == HEADER


def test_every_facility_with_public_wifi_is_a_row_with_its_coordinates(repo_root: Path) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(access_points_csv(load_inventory(repo_root / "firmware-config")))
        )
    )
    assert [row["名称"] for row in rows] == ["北浜コミュニティセンター", "網走市立図書館",
                                          "網走市総合福祉センター"]  # fmt: skip
    library = rows[1]
    assert library["都道府県コード又は市区町村コード"] == "012114"
    assert (library["都道府県名"], library["市区町村名"], library["NO"]) == (
        "北海道",
        "網走市",
        "2",
    )
    assert (library["緯度"], library["経度"]) == ("44.017900", "144.270700")
    assert library["SSID"] == "Abashiri_Free_Wi-Fi" and library["提供エリア"] == "館内（閲覧室）"
    assert not any("見守り" in row["名称"] for row in rows)  # homes are never published


def test_the_command_writes_the_file_with_a_bom_for_excel(tmp_path: Path, capsys: object) -> None:
    target = tmp_path / "public_wireless_lan.csv"
    assert main(["reports", "opendata", "--out", str(target)]) == 0
    # Excel on Japanese Windows reads UTF-8 only after a BOM.
    assert target.read_bytes().startswith(b"\xef\xbb\xbf" + "都道府県コード".encode())
    plain = tmp_path / "plain.csv"
    assert main(["reports", "opendata", "--out", str(plain), "--no-bom"]) == 0
    assert plain.read_bytes().startswith("都道府県コード".encode())
