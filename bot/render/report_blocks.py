"""The blocks a report is laid out in (`bot.render.report_layout`): headings,
paragraphs, quotes, bullets, tables and a figure, written out the same way by
`bot.render.report_markdown` and `bot.render.report_docx`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    level: int
    """0: the title; 1 to 3: sections."""
    text: str


@dataclass(frozen=True)
class Subtitle:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    lead: str | None = None
    """Words set in bold before the text."""


@dataclass(frozen=True)
class Quote:
    text: str
    """May have several lines."""


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    caption: str | None
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    total: bool = False
    """The last row is a total (set in bold)."""


@dataclass(frozen=True)
class Figure:
    caption: str
    filename: str


Block = Heading | Subtitle | Paragraph | Quote | Bullets | Table | Figure
