"""The half-yearly report's fixed texts, numbers and dates.

The texts live in `bot/render/locales/halbjahresbericht.toml` (section
`[bericht]`). They are filled the way the message catalogs of
`bot.render.texts` fill theirs (`{name}` placeholders, `str.format`) and
use the catalogs' plural scheme (`<key>_one` for exactly one, `<key>`
otherwise, `{count}` the number), with the catalogs' own function choosing
the key (`plural` of `bot.render.texts`). The report still reads
its own file, for three reasons:

- it is German only, a council document, while `Texts` loads a catalog
  per chat language and falls back between them;
- its parameters must not be HTML-escaped: the Markdown and the Word
  renderer escape user text in their own way (`Texts.get` escapes for
  Telegram, and its flattening would turn a table row into one string);
- it needs a text for none where the report says something else for zero
  ("Im Berichtszeitraum fand keine Sitzung statt.", or nothing at all):
  `<key>_none`, used by `counted` when the file has it.

Numbers are written the German way (`12.345`, `7,3`), days as
`bot.core.dates.format_date` writes German dates (`03.12.2026`).
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from pathlib import Path

from bot.core.dates import format_date
from bot.core.report_period import HalfYear
from bot.render.texts import plural

TEMPLATE = Path(__file__).parent / "locales" / "halbjahresbericht.toml"


@cache
def _template() -> dict[str, str | list[str]]:
    with open(TEMPLATE, "rb") as handle:
        table: dict[str, str | list[str]] = tomllib.load(handle)["bericht"]
    return table


def t(key: str, **params: object) -> str:
    value = _template()[key]
    assert isinstance(value, str), key
    return value.format(**params)


def row(key: str) -> tuple[str, ...]:
    """The cells of a table row (a list in the file)."""
    value = _template()[key]
    assert isinstance(value, list), key
    return tuple(value)


def counted(key: str, count: int, **params: object) -> str:
    """The text of `key` for `count` things: `<key>_none` for none (when the file has
    it; an empty text says nothing), else the catalogs' plural form, `{count}` filled."""
    if count <= 0 and f"{key}_none" in _template():
        key = f"{key}_none"
    else:
        key = plural(key, count)
    return t(key, count=number(count), **params)


def number(n: int) -> str:
    """`12.345` (German thousands separator)."""
    return f"{n:,}".replace(",", ".")


def average(total: int, count: int) -> str:
    """`7,3`; a dash when there is nothing to divide by."""
    return f"{total / count:.1f}".replace(".", ",") if count else t("none")


def day_text(day: date) -> str:
    """`03.12.2026`."""
    return format_date(day, "de")


def half_name(half: HalfYear) -> str:
    return t(f"half_{half.half}", year=half.year)


def file_names(half: HalfYear) -> tuple[str, str, str]:
    """The Word, Markdown and chart file names."""
    stem = t("file_stem", label=half.label)
    return f"{stem}.docx", f"{stem}.md", f"{t('chart_stem', label=half.label)}.png"


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with "…"."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
