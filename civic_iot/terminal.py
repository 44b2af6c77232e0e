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


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (Japanese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def table(headers: list[str], rows: list[list[str]], *, right: int = 0) -> str:
    """Rows in columns aligned for a terminal, Japanese included; cells made printable.
    The first ``right`` columns are right-aligned (numbers, such as IDs)."""
    cells = [[printable(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]

    def fit(cell: str, width: int, column: int) -> str:
        pad = " " * (width - display_width(cell))
        return pad + cell if column < right else cell + pad

    return "\n".join(
        "  ".join(fit(cell, width, column)
                  for column, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in cells
    )  # fmt: skip
