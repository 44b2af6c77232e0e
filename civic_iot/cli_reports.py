"""`civic-iot reports`: open data and Wi-Fi usage, written as files."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.yamlconf import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
_BOM_HELP = ("start the CSV with a UTF-8 BOM, so Excel on Japanese Windows reads it "
             "(default; --no-bom for tools that do not want one)")  # fmt: skip


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reports = commands.add_parser("reports", help="open data and usage reports").add_subparsers()
    opendata = reports.add_parser(
        "opendata", help="the public Wi-Fi access point list (公衆無線LANアクセスポイント一覧)"
    )
    opendata.add_argument("--dir", type=Path, default=REPO_ROOT / "firmware-config")
    opendata.add_argument("--out", type=Path, required=True)
    opendata.add_argument("--bom", action=argparse.BooleanOptionalAction, default=True,
                          help=_BOM_HELP)  # fmt: skip
    opendata.set_defaults(handler=_opendata)
    usage = reports.add_parser(
        "wifi-usage",
        help="users per facility per day and month (CSV, a PNG chart and a PDF report)",
    )
    usage.add_argument("--config", type=Path, required=True, help="the gateway's config")
    usage.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    usage.add_argument("--to", dest="end", required=True, help="day after the last, YYYY-MM-DD")
    usage.add_argument("--out", type=Path, required=True, help="directory for the CSV files")
    usage.add_argument("--bom", action=argparse.BooleanOptionalAction, default=True,
                       help=_BOM_HELP)  # fmt: skip
    usage.set_defaults(handler=_wifi_usage)


def _opendata(args: argparse.Namespace) -> int:
    write_opendata(args.dir, args.out, bom=args.bom)
    return 0


def _wifi_usage(args: argparse.Namespace) -> int:
    write_wifi_usage(args.config, args.start, args.end, args.out, bom=args.bom)
    return 0


def _encoding(bom: bool) -> str:
    return "utf-8-sig" if bom else "utf-8"


def write_opendata(inventory_dir: Path, out: Path, *, bom: bool = True) -> None:
    """The public Wi-Fi access point list (CSV) from firmware-config."""
    from common.city.inventory import load_inventory
    from dashboards.opendata import access_points_csv

    text = access_points_csv(load_inventory(inventory_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding=_encoding(bom), newline="")
    print(f"{out}: {text.count(chr(10)) - 1} access point site(s)")


def write_wifi_usage(
    config_path: Path, start: str, end: str, out: Path, *, bom: bool = True
) -> None:
    """Users per facility per day and month, [start, end), as CSV files and a chart."""
    from common.city.inventory import load_inventory
    from dashboards import chart, usage
    from gateway import config
    from gateway.writers.v1 import V1Writer

    gateway = config.load(config_path)
    if gateway.influx.dialect != "v1":
        raise ConfigError(str(config_path), "wifi-usage reads with InfluxQL: influx.dialect v1")
    inventory = load_inventory(Path(gateway.inventory))
    names = {site.id: site.name.ja for site in inventory.sites.values()}
    reader = V1Writer(gateway.influx.url, username=gateway.influx.username,
                      password=config.read_secret(gateway.influx.password_file))  # fmt: skip
    try:
        days = usage.daily(reader.query, gateway.influx.databases.facility,
                           (start, end), names, inventory.city.timezone)  # fmt: skip
    except ValueError as exc:
        raise ConfigError(f"{start}..{end}", f"expected YYYY-MM-DD dates: {exc}") from None
    finally:
        reader.close()
    out.mkdir(parents=True, exist_ok=True)
    (out / "wifi-usage-daily.csv").write_text(usage.to_csv(days, "日付 / day"),
                                               encoding=_encoding(bom), newline="")  # fmt: skip
    months = usage.monthly(days)
    (out / "wifi-usage-monthly.csv").write_text(usage.to_csv(months, "月 / month"),
                                                 encoding=_encoding(bom), newline="")  # fmt: skip
    chart.users_chart(days, out / "wifi-usage-daily.png")
    chart.monthly_report(days, months, out / "wifi-usage-report.pdf", inventory.city.name.ja)
    print(f"{out}: {len(days)} facility-days, {len(months)} facility-months, a chart "
          "and a PDF report")  # fmt: skip
