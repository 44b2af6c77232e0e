"""What every channel finds in a message's text: the acknowledgement link (a button in
e-mail and LINE, a key press in a call) and numbers to call (``tel:`` links on pages)."""

from __future__ import annotations

import html
import re

ACK_LINK = re.compile(r"https?://\S+/ack/\d+\?\S+")
# 119 / 110 (emergency), and numbers as the residents file writes them (+81…, 0152-…).
PHONE = re.compile(r"(?<![\d+])(\+\d{8,15}|0\d{1,4}-\d{1,4}-\d{3,4}|11[09])(?!\d)")


def tel_linked(line: str, attributes: str = "") -> str:
    """The line, HTML-escaped, with numbers to call as tel: links (``attributes`` added
    to each, e.g. ``class="tel"``)."""
    extra = f" {attributes}" if attributes else ""
    out, last = [], 0
    for match in PHONE.finditer(line):
        out.append(html.escape(line[last : match.start()]))
        number = match.group()
        out.append(f'<a{extra} href="tel:{number.replace("-", "")}">{html.escape(number)}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)
