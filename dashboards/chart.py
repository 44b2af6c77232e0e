"""The Wi-Fi usage chart for reports without Grafana, drawn with matplotlib: users per
facility per day as grouped bars, facility names in Japanese (Noto Sans CJK, Debian's
fonts-noto-cjk, which the bootstrap installs), the legend beside the plot, never over
the bars, whole-number ticks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator

from dashboards.usage import Usage

WIDTH_PX, HEIGHT_PX, DPI = 960, 480, 100
_JAPANESE_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic")
_TITLE = "公衆Wi-Fi 施設別の利用者数（日別） / Public Wi-Fi users per facility per day"


def japanese_font() -> str | None:
    """The first installed font that has Japanese glyphs, or None."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in _JAPANESE_FONTS if name in installed), None)


def users_chart(rows: list[Usage], path: Path, title: str = _TITLE) -> None:
    days = sorted({r.period for r in rows})
    sites = sorted({(r.site, r.name) for r in rows})
    users = {(r.period, r.site): r.users for r in rows}
    font = japanese_font()
    with plt.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}):
        figure, axes = plt.subplots(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        width = 0.8 / max(1, len(sites))
        for index, (site, name) in enumerate(sites):
            offsets = [d + (index - (len(sites) - 1) / 2) * width for d in range(len(days))]
            counts = [users.get((day, site), 0) for day in days]
            bars = axes.bar(offsets, counts, width, label=name)
            axes.bar_label(bars, fontsize=8, padding=2)
        axes.set_xticks(range(len(days)), [day[5:].replace("-", "/") for day in days])
        axes.set_xlabel("日付 / date")
        axes.set_ylabel("利用者数（人） / users")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        axes.set_title(title, fontsize=12)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png", dpi=DPI)
        plt.close(figure)


def monthly_report(rows: list[Usage], months: list[Usage], path: Path, city: str) -> Path:
    """The monthly publication (PDF): a summary page (users per facility per month, as
    a chart and a table), then a page per facility with its days. The summary page is
    also written as a PNG beside it (for the city's web page); its path is returned."""
    from matplotlib.backends.backend_pdf import PdfPages  # noqa: PLC0415 - only here

    font = japanese_font()
    style = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(style), PdfPages(path) as pdf:  # type: ignore[arg-type]
        preview = path.with_name(f"{path.stem}-summary.png")
        _summary_page(pdf, months, city, preview)
        for site, name in sorted({(r.site, r.name) for r in rows}):
            _facility_page(pdf, [r for r in rows if r.site == site], name, city)
    return preview


def _summary_page(pdf: Any, months: list[Usage], city: str, preview: Path) -> None:
    figure, (chart, table) = plt.subplots(2, 1, figsize=(8.27, 11.69), height_ratios=(3, 2))
    periods = sorted({m.period for m in months})
    sites = sorted({(m.site, m.name) for m in months})
    width = 0.8 / max(1, len(sites))
    for index, (site, name) in enumerate(sites):
        counts = [next((m.users for m in months if m.site == site and m.period == p), 0)
                  for p in periods]  # fmt: skip
        offsets = [i + (index - (len(sites) - 1) / 2) * width for i in range(len(periods))]
        chart.bar_label(chart.bar(offsets, counts, width, label=name), fontsize=8, padding=2)
    chart.set_xticks(range(len(periods)), periods)
    chart.set_ylabel("利用者数（人日） / user-days")
    chart.yaxis.set_major_locator(MaxNLocator(integer=True))
    chart.grid(axis="y", alpha=0.3)
    chart.set_axisbelow(True)
    # Above the plot, between title and bars, so it never covers a bar or its label.
    chart.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(3, len(sites) or 1),
                 frameon=False)  # fmt: skip
    chart.set_title(f"{city} 公衆Wi-Fi 月別利用状況 / Public Wi-Fi use per month", pad=28)
    table.axis("off")
    cells = [[m.period, m.name, f"{m.users:,}", str(m.peak)] for m in months]
    labels = ["月 / month", "施設 / facility", "利用者数 / users", "最大同時接続 / peak"]
    table.table(cellText=cells or [["-", "-", "-", "-"]], loc="upper center", colLabels=labels)
    figure.tight_layout()
    pdf.savefig(figure)
    figure.savefig(preview, format="png", dpi=DPI)
    plt.close(figure)


def _facility_page(pdf: Any, days: list[Usage], name: str, city: str) -> None:
    figure, (chart, table) = plt.subplots(2, 1, figsize=(8.27, 11.69), height_ratios=(2, 3))
    days = sorted(days, key=lambda r: r.period)
    chart.bar([d.period[5:].replace("-", "/") for d in days], [d.users for d in days])
    chart.set_ylabel("利用者数（人） / users")
    chart.yaxis.set_major_locator(MaxNLocator(integer=True))
    chart.tick_params(axis="x", labelrotation=90, labelsize=7)
    chart.set_title(f"{city} {name} — 日別の利用者数 / users per day")
    table.axis("off")
    cells = [[d.period, str(d.users), str(d.peak)] for d in days[:31]]
    table.table(cellText=cells, loc="upper center",
                colLabels=["日付 / day", "利用者数 / users", "最大同時接続 / peak"])  # fmt: skip
    figure.tight_layout()
    pdf.savefig(figure)
    plt.close(figure)
