"""Text from devices made safe for a terminal: control and format characters (escape
sequences that clear a screen or move the cursor, bidirectional overrides that fake a
line) are shown as escapes, never interpreted."""

from __future__ import annotations

import unicodedata


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or format character written as ``\\xNN``/``\\uNNNN``."""
    out = []
    for char in text:
        if keep_newlines and char == "\n":
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)
