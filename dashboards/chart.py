"""The Wi-Fi usage chart for reports without Grafana, drawn with matplotlib: users per
facility per day as grouped bars, facility names in Japanese (Noto Sans CJK, Debian's
fonts-noto-cjk, which the bootstrap installs), the legend beside the plot, never over
the bars, whole-number ticks."""

from __future__ import annotations

from pathlib import Path

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
