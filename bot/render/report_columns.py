"""Table columns of the Word report sized to their content (SPEC 7: no broken words).

Word and LibreOffice give every column the same width unless told
otherwise, which broke "Lenkungskreis" and "Arbeitsmarktintegration" across
lines. `layout` measures every cell with the widths of Arial (the metrics
of Helvetica and Liberation Sans, which are the same) and gives each column
at least its longest word, so no word is broken, and shares the rest of the
line by how much text each column has.

- The narrowest width of a column is its longest word (a word may break
  after a hyphen, as Word does: "EU-(Neu)Zuwanderung"), bold in the header
  and the total row, plus the cell's margins.
- A table is set in 10 or 9.5 points when every cell of its body then
  fits on one line, else in the largest of `FONT_SIZES` at which no word
  breaks;
  only if even that fails (a user wrote a 60-letter word) are the columns
  shrunk, and only there can a word break.
- The room beyond the longest words goes to the columns by how much
  longer their cells are: the body's cells, so that a name stays on one
  line while a header of several words ("Zusagen je Sitzung") may wrap
  between its words.
- A table whose text fits on one line per cell keeps that natural width;
  a table of more than three columns spans the text width.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# fmt: off
_CHARS = ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüÄÖÜßéèáàçñ„“”–—…·§°’‘«»'
_REGULAR = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 278, 278, 584, 584, 584,
    556, 1015, 278, 278, 278, 469, 556, 333, 334, 260, 334, 584, 556, 556, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278,
    556, 500, 722, 500, 500, 500, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 556, 556, 556, 667, 778, 722, 611, 556, 556, 556,
    556, 500, 556, 333, 333, 333, 556, 1000, 1000, 278, 556, 400, 222, 222, 556, 556,
)
_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 333, 333, 584, 584, 584,
    611, 975, 333, 278, 333, 584, 556, 333, 389, 280, 389, 584, 556, 556, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333,
    611, 556, 778, 556, 556, 500, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 556, 611, 611, 722, 778, 722, 611, 556, 556, 556,
    556, 556, 611, 500, 500, 500, 556, 1000, 1000, 278, 556, 400, 278, 278, 556, 556,
)
# fmt: on
"""Advance widths in 1/1000 em of the characters in `_CHARS` (Helvetica = Arial)."""

_WIDTHS = {False: dict(zip(_CHARS, _REGULAR, strict=True)), True: dict(zip(_CHARS, _BOLD, strict=True))}
_DEFAULT = 556
"""A character not in the table: the width of a digit."""
_BREAK = re.compile(r"(?<=[-/])|\s+")
"""Where a line may break: at white space, after a hyphen or a slash."""

PADDING_PT = 2 * 5.4 + 2.0
"""The cell's left and right margins (0.19 cm each, Word's default) and a little air."""
FONT_SIZES = (10.0, 9.5, 9.0, 8.5)
"""The sizes a table may be set in, largest first: 10 or 9.5 points when every
cell of the body then fits on one line, else the largest at which no word breaks."""


@dataclass(frozen=True)
class Columns:
    font_pt: float
    widths_pt: tuple[float, ...]


def text_width(text: str, size_pt: float, bold: bool = False) -> float:
    """The width of `text` on one line, in points."""
    table = _WIDTHS[bold]
    total = 0
    for ch in text:
        width = table.get(ch)
        if width is None:
            base = unicodedata.normalize("NFKD", ch)[:1]
            width = table.get(base, 1000 if unicodedata.east_asian_width(ch) in "WF" else _DEFAULT)
        total += width
    return total * size_pt / 1000


def _longest_word(text: str, size_pt: float, bold: bool) -> float:
    return max((text_width(word, size_pt, bold) for word in _BREAK.split(text) if word), default=0.0)


def layout(
    rows: Sequence[Sequence[str]],
    bold_rows: Sequence[bool],
    available_pt: float,
    *,
    full_width: bool = False,
    numeric: Sequence[bool] = (),
) -> Columns:
    """The font size and the width of every column of a table (`rows` includes the header).
    A `full_width` table whose text fits gives the room left to its text columns, not
    to the `numeric` ones."""
    count = len(rows[0])
    body = list(zip(rows[1:], bold_rows[1:], strict=True)) or list(zip(rows, bold_rows, strict=True))

    def measure(size: float) -> tuple[list[float], list[float]]:
        least = [
            max(_longest_word(r[c], size, b) for r, b in zip(rows, bold_rows, strict=True)) + PADDING_PT
            for c in range(count)
        ]
        wanted = [
            max(least[c], max(text_width(" ".join(r[c].split()), size, b) for r, b in body) + PADDING_PT)
            for c in range(count)
        ]
        return least, wanted

    sizes = [measure(size) + (size,) for size in FONT_SIZES]
    one_line = [m for m in sizes[:2] if sum(m[1]) <= available_pt]  # worth at most half a point
    words_fit = [m for m in sizes if sum(m[0]) <= available_pt]
    least, wanted, size = (one_line or words_fit or sizes[-1:])[0]
    if sum(least) > available_pt:  # only a word longer than any line can be broken
        share = available_pt / sum(least)
        return Columns(size, tuple(w * share for w in least))
    if sum(wanted) <= available_pt and not full_width:
        return Columns(size, tuple(wanted))
    room = available_pt - sum(least)
    extra = [w - m for w, m in zip(wanted, least, strict=True)]
    if sum(extra) <= 0:
        return Columns(size, tuple(m + room / count for m in least))
    if sum(wanted) <= available_pt:
        growing = [w if not (numeric and numeric[c]) else 0.0 for c, w in enumerate(wanted)]
        if not sum(growing):
            growing = wanted
        left = available_pt - sum(wanted)
        extra = [e + left * g / sum(growing) for e, g in zip(extra, growing, strict=True)]
        return Columns(size, tuple(m + e for m, e in zip(least, extra, strict=True)))
    return Columns(size, tuple(m + room * e / sum(extra) for m, e in zip(least, extra, strict=True)))
