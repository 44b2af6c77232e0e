"""The HTML part of an alert e-mail, made from the message's lines: the place, the
headline large, each line of what happened, a large button to the acknowledgement
page (its address below it too, for mail apps that hide buttons) and ``tel:`` links
for the numbers to call. apprise sends it with a plain-text part made from it."""

from __future__ import annotations

import html
import re

from alerts.links import tel_linked

_LINK = re.compile(r"^https?://\S+$")
_BUTTON = {"ja": "対応します（ほかの方への連絡を止める）", "en": "I am taking care of it"}
_STYLE = (
    "font-family:'Hiragino Sans','Noto Sans CJK JP',Meiryo,sans-serif;"
    "font-size:17px;line-height:1.6;color:#1a1a1a;max-width:36em;margin:0 auto;padding:12px"
)
_BUTTON_STYLE = (
    "display:block;margin:18px 0 6px;padding:16px 12px;background:#b3261e;color:#ffffff;"
    "font-size:20px;font-weight:bold;text-align:center;text-decoration:none;border-radius:10px"
)


def mail_html(text: str, language: str = "ja") -> str:
    """One block of lines joined by <br> (so the plain part apprise makes from it keeps
    the message's lines), the headline large, then the button for each link."""
    lines = [line.strip() for line in text.splitlines()]
    shown, links = [], []
    for index, line in enumerate(lines):
        if _LINK.match(line):
            links.append(line)
        elif index == 0:
            shown.append(f'<span style="color:#555">{html.escape(line)}</span>')
        elif index == 1:
            shown.append(f'<strong style="font-size:24px">{tel_linked(line)}</strong>')
        elif line:
            shown.append(tel_linked(line))
    parts = [f'<div style="{_STYLE}">', "<br>".join(shown)]
    label = _BUTTON["en" if language == "en" else "ja"]
    for link in links:
        url = html.escape(link, quote=True)
        parts.append(f'<br><a href="{url}" style="{_BUTTON_STYLE}">{label}</a>')
        parts.append(f'<br><a href="{url}" style="font-size:13px;word-break:break-all">'
                     f"{url}</a>")  # fmt: skip
    parts.append("</div>")
    return "".join(parts)
