"""Report handlers: /report and the half-year buttons; the report arrives as documents.

- `/report 2026-H1` (also `/bericht`): the half-yearly report for the
  council committee as a Word document, the same text as Markdown, and the
  chart as an image, in this order. Only the coordination may ask.
- `/report` alone offers the current half-year (marked as still running)
  and the previous one (when there are data from it) as buttons.
- Queries run in a read-only unit of work; the chart and the documents are
  rendered in a worker thread, so the bot keeps answering others meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import date

from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import report as core
from bot.core.commands import by_name
from bot.core.dates import format_date
from bot.core.errors import Refusal
from bot.core.report_period import HalfYear, choices
from bot.render.report import render
from handlers import payloads as p
from handlers.common import Handler, Request, action


def _for_reader(handler: Callable[[Request], Awaitable[None]]) -> Callable[[Request], Awaitable[None]]:
    """A refusal's dates in the reader's language, and a working example with the command."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> None:
        try:
            await handler(request)
        except Refusal as refusal:
            params = {
                name: format_date(value, request.lang) if isinstance(value, date) else value
                for name, value in refusal.params.items()
            }
            params.setdefault("example", HalfYear.containing(request.now(), request.settings.timezone).label)
            params.setdefault("command", "/report")
            refusal.params = params
            raise

    return wrapper


def half_name(request: Request, half: HalfYear) -> str:
    return request.label(f"report.half_{half.half}", year=half.year)


@action
@_for_reader
async def report_command(request: Request) -> None:
    """`/report <YYYY-H1|YYYY-H2>`; buttons for the current and the previous half-year without it."""
    text = " ".join(request.args)
    now = request.now()
    me = await request.reading_person()
    if text:
        await send_report(request, core.requested(me, request.settings, text))
        return
    offered = await request.read(choices, me, request.settings, now)
    current = offered[0]
    rows = [
        [
            (
                request.label(
                    "report.button_running" if choice == current else "report.button", half=half_name(request, choice)
                ),
                p.ReportFor(choice.year, choice.half),
            )
        ]
        for choice in offered
    ]
    await request.reply(request.t("report.choose", example=current.label), rows)


@_for_reader
async def half_year_pressed(request: Request) -> None:
    """A half-year button of the guided /report (checked again: the data may be forged)."""
    assert isinstance(request.payload, p.ReportFor)
    me = await request.reading_person()
    half = core.pressed(me, request.settings, request.payload.year, request.payload.half)
    await request.answer()
    await request.edit(rows=())
    await send_report(request, half)


async def send_report(request: Request, half: HalfYear) -> None:
    """Build the report (refused for a half-year not begun or without data), render, send."""
    now = request.now()
    report = await request.read(core.build, half, request.settings, now)
    await request.typing(ChatAction.UPLOAD_DOCUMENT)
    rendered = await asyncio.to_thread(render, report)
    as_of = (
        request.label("report.caption_as_of", date=format_date(report.as_of, request.lang))
        if report.as_of is not None
        else ""
    )
    caption = request.label(
        "report.caption_docx",
        half=half_name(request, half),
        start=format_date(report.first_day, request.lang),
        end=format_date(report.last_day, request.lang),
        as_of=as_of,
    )
    await request.send_document(rendered.docx, rendered.docx_name, caption=caption)
    await request.send_document(
        rendered.markdown, rendered.markdown_name, caption=request.label("report.caption_markdown")
    )
    await request.send_document(rendered.chart.png, rendered.chart_name, caption=request.label("report.caption_chart"))


def handlers() -> list[BaseHandler]:
    command = by_name("report")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], report_command, filters=filters.ChatType.PRIVATE)]


CALLBACKS: dict[type, Handler] = {p.ReportFor: half_year_pressed}
