"""The half-yearly report as files: the Word document, the Markdown and the chart.

The report for the council committee (SPEC 7) is German only, the
council's language; its fixed texts live in
`bot/render/locales/halbjahresbericht.toml`. What it contains is decided by
the rules (`bot.core.report`, `bot.core.report_period`); how it reads is
here, in these modules:

- `report_text`: the fixed texts, the plural forms, numbers and dates;
- `report_layout`: `compose`, the whole report once as a list of blocks
  (`report_blocks`: headings, paragraphs, tables, a figure), with the
  topics of the agendas in `report_topics`;
- `report_markdown` and `report_docx`: the same blocks as Markdown and as a
  Word document, so both always say the same; `report_columns` sizes the
  Word tables' columns to their content;
- `report_attendance`: participation beside the Zusagen, the approved minutes,
  and what the chart's bars count;
- `bot.render.chart`: the participation chart;
- this module: `render` (all three files, for the chat) and `command_line`
  (`kimbot report`, for the terminal).

`render` is CPU work for a worker thread. For the same data and the same
"now", the Markdown is byte for byte the same, from the chat and from the
command line.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.report import Report, build
from bot.core.report_period import HalfYear, parse_half_year
from bot.render import chart as charts
from bot.render.report_attendance import chart_basis, chart_value
from bot.render.report_docx import to_docx
from bot.render.report_layout import compose
from bot.render.report_markdown import to_markdown
from bot.render.report_text import day_text, file_names, half_name, t
from bot.render.texts import Texts


@dataclass(frozen=True)
class Rendered:
    docx: bytes
    markdown: bytes
    chart: charts.Chart
    docx_name: str
    markdown_name: str
    chart_name: str

    @property
    def files(self) -> tuple[tuple[str, bytes], ...]:
        """(file name, content) of the Word document, the Markdown and the chart."""
        return (
            (self.docx_name, self.docx),
            (self.markdown_name, self.markdown),
            (self.chart_name, self.chart.png),
        )


def render(report: Report) -> Rendered:
    """The chart, the Markdown and the Word document (CPU work: call it in a worker thread)."""
    half = half_name(report.half)
    basis = chart_basis(report)
    suffix = "" if basis == "rsvp" else f"_{basis}"
    chart = charts.participation_chart(
        t(f"chart_title{suffix}", half=half),
        t(f"chart_axis{suffix}"),
        t("chart_empty"),
        [
            charts.Series(
                g.name,
                tuple(t("chart_day", day=s.day.day, month=s.day.month) for s in g.sessions),
                tuple(chart_value(s) for s in g.sessions),
                tuple(s.attendance is not None for s in g.sessions) if basis == "mixed" else (),
            )
            for g in report.groups
        ],
    )
    blocks = compose(report)
    markdown = to_markdown(blocks).encode("utf-8")
    docx = to_docx(blocks, chart.png, report)
    docx_name, markdown_name, chart_name = file_names(report.half)
    return Rendered(docx, markdown, chart, docx_name, markdown_name, chart_name)


# --- the command line ---------------------------------------------------------------------------


class ReportArgs(Protocol):
    """The arguments of `kimbot report` (as `bot.cli` parses them)."""

    half_year: str
    out: str


def _plain(text: str) -> str:
    """A catalog text for the terminal: tags removed, entities resolved."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def command_line(settings: Settings, args: ReportArgs, *, now: datetime | None = None) -> int:
    """`kimbot report <YYYY-H1|YYYY-H2> [--out DIR]`: the report as files.

    Writes the Word document, the Markdown and the chart into `--out`
    (created if missing) and prints their paths. Bad input: the reason on
    stderr, exit status 2. `now` is for tests (default: the real time).
    """
    from storage.database import Database

    moment = now or datetime.now(UTC)
    out = Path(args.out)

    async def produce(half: HalfYear) -> Rendered:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.reader() as uow:
                report = await build(uow, half, settings, moment)
        finally:
            await db.dispose()
        return await asyncio.to_thread(render, report)

    try:
        rendered = asyncio.run(produce(parse_half_year(args.half_year)))
    except Refusal as refusal:
        params = {name: day_text(value) if isinstance(value, date) else value for name, value in refusal.params.items()}
        params.setdefault("example", HalfYear.containing(moment, settings.timezone).label)
        text = Texts().plain(settings.default_language, refusal.key, command="kimbot report", **params)
        print(f"kimbot report: {_plain(text)}", file=sys.stderr)
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in rendered.files:
            path = out / name
            path.write_bytes(data)
            written.append(path)
    except OSError as error:
        print(f"kimbot report: cannot write into {out}: {error.strerror or error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
