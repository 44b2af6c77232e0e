"""The city's public Wi-Fi access points as open data, in the government's recommended
dataset format 「公衆無線LANアクセスポイント一覧」 (one row per facility with public Wi-Fi
in firmware-config; coordinates and address from the site)."""

from __future__ import annotations

import csv
import io

from common.city.inventory import Inventory

# The template's header row, from github.com/NII-CPS-Center/tablelinker-lib
# templates/xxxxxx_public_wireless_lan.csv @ edf0b9435f0dce0ec93ace7a55b107277f59fe98
HEADER = (
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ",
    "名称_英語", "住所", "方書", "緯度", "経度", "設置者", "電話番号", "内線番号", "SSID",
    "提供エリア", "URL", "備考",
)  # fmt: skip


def access_points_csv(inventory: Inventory) -> str:
    """The CSV text (UTF-8 with CRLF line ends, as the template's users expect)."""
    city = inventory.city
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    sites = [s for s in sorted(inventory.sites.values(), key=lambda s: s.id) if s.public_wifi]
    for number, site in enumerate(sites, start=1):
        wifi = site.public_wifi
        assert wifi is not None
        location = site.location
        writer.writerow((
            city.code or "", number, city.prefecture or "", city.name.ja, site.name.ja,
            wifi.name_kana, site.name.en, site.address or "", "",
            f"{location.lat:.6f}" if location else "", f"{location.lon:.6f}" if location else "",
            city.name.ja, wifi.phone, "", wifi.ssid, wifi.area, wifi.url, wifi.note,
        ))  # fmt: skip
    return out.getvalue()
