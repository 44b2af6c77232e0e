"""A PNG bar chart of Wi-Fi users per facility per day, for reports without Grafana.
Labels are site IDs and ASCII (no CJK font is needed on the server)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from dashboards.usage import Usage

WIDTH, HEIGHT, MARGIN = 960, 480, 60
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189))


def users_chart(rows: list[Usage], path: Path, title: str = "Public Wi-Fi users per day") -> None:
    days = sorted({r.period for r in rows})
    sites = sorted({r.site for r in rows})
    users = {(r.period, r.site): r.users for r in rows}
    top = max((r.users for r in rows), default=0) or 1
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 15), title, fill="black")
    plot_h, plot_w = HEIGHT - 2 * MARGIN, WIDTH - 2 * MARGIN
    draw.line((MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN), fill="black")
    draw.line((MARGIN, MARGIN, MARGIN, HEIGHT - MARGIN), fill="black")
    draw.text((5, MARGIN - 5), str(top), fill="black")
    slot = plot_w / max(1, len(days))
    bar = slot * 0.8 / max(1, len(sites))
    for d, day in enumerate(days):
        x0 = MARGIN + d * slot + slot * 0.1
        for s, site in enumerate(sites):
            height = plot_h * users.get((day, site), 0) / top
            if height <= 0:
                continue
            left = x0 + s * bar
            draw.rectangle((left, HEIGHT - MARGIN - height, left + bar - 1, HEIGHT - MARGIN),
                           fill=COLOURS[s % len(COLOURS)])  # fmt: skip
        draw.text((x0, HEIGHT - MARGIN + 8), day[5:], fill="black")
    for s, site in enumerate(sites):
        y = MARGIN + 15 * s
        draw.rectangle((WIDTH - 200, y, WIDTH - 190, y + 10), fill=COLOURS[s % len(COLOURS)])
        draw.text((WIDTH - 185, y - 1), site, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")
