"""Report handlers: /report and the half-year buttons; the report arrives as documents.

- `/report 2026-H1` (also `/bericht`): the half-yearly report for the
  council committee as a Word document, the same text as Markdown, and the
  chart as an image, in this order. Only the coordination may ask.
- `/report` alone offers the current half-year (marked as still running)
  and the previous one (when there are data from it) as buttons.
- Notes per group, added before generating (`bot.core.report_notes`):
  `/report 2026-H2 note ak-eu <text>` saves at once, `/report 2026-H2 note
  ak-eu` asks for the text, `/report 2026-H2 note ak-eu -` deletes,
  `/report 2026-H2 notes` lists them (also `notiz`, `notizen`); without
  the half-year (`/report note ak-eu <text>`) the current one is meant. The guided
  `/report` has a "Notizen" button beside each half-year; the list has a
  button per group and "Bericht erstellen".
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
from bot.core import report_notes as notes
from bot.core.commands import by_name
from bot.core.dates import format_date
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from bot.core.report_period import HalfYear, choices, parse_half_year
from bot.core.steps import Step
from bot.render.report import render
from bot.render.texts import Html
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, action
from handlers.registration import TextAnswer

NOTE_WORDS = ("note", "notes", "notiz", "notizen")
"""The word after the half-year that turns /report to the notes."""


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
    args = request.args
    keyword = next((i for i, word in enumerate(args) if word.casefold() in NOTE_WORDS), None)
    if keyword is not None:
        me = await request.person()
        require_coordinator(me, request.settings)
        written = " ".join(args[:keyword])
        half = parse_half_year(written) if written else HalfYear.containing(request.now(), request.settings.timezone)
        await note_command(request, half, " ".join(args[keyword + 1 :]))
        return
    text = " ".join(args)
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
            ),
            (request.label("report.notes_button"), p.ReportNotes(choice.year, choice.half)),
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


# --- the notes per group ------------------------------------------------------------------------


def _after_note(request: Request, half: HalfYear) -> Rows:
    return [
        [
            (request.label("report.notes_button"), p.ReportNotes(half.year, half.half)),
            (request.label("report.create_button"), p.ReportFor(half.year, half.half)),
        ]
    ]


async def note_command(request: Request, half: HalfYear, rest: str) -> None:
    """`/report <half> note [<group> [<text> | -]]`."""
    uow, me, now = await request.uow(), await request.person(), request.now()
    if not rest.strip():
        await show_notes(request, half, edit=False)
        return
    found, text = await notes.find_group_and_text(uow, me, request.settings, half, rest, now)
    if not text:
        await ask_for_note(request, half, found)
        return
    saved = await notes.save(uow, me, request.settings, half, found.group, text, now)
    await _tell_saved(request, half, saved)


async def _tell_saved(request: Request, half: HalfYear, saved: notes.Saved) -> None:
    name, half_text = saved.group.name, half_name(request, half)
    if saved.text is None:
        text = request.t("report.note_deleted", name=name, half=half_text, previous=saved.previous or "")
    else:
        key = "report.note_replaced" if saved.previous else "report.note_saved"
        text = request.t(key, name=name, half=half_text, text=saved.text)
    await request.reply(text, _after_note(request, half))


async def show_notes(request: Request, half: HalfYear, *, edit: bool) -> None:
    """The groups of the report with their notes, a button per group, and "Bericht erstellen"."""
    listed = await notes.overview(await request.uow(), await request.person(), request.settings, half, request.now())
    lines = [
        request.t("report.notes_line", name=entry.group.name, text=entry.text)
        if entry.text
        else request.t("report.notes_line_none", name=entry.group.name)
        for entry in listed
    ]
    example = next((entry.group.slug for entry in listed), "ak-eu")
    text = request.t(
        "report.notes_overview",
        half=half_name(request, half),
        lines=Html("\n".join(lines)),
        label=half.label,
        slug=example,
    )
    buttons: list[tuple[str, p.Payload]] = [
        (
            request.label("report.note_button_edit" if entry.text else "report.note_button_new", name=entry.group.name),
            p.ReportNoteFor(half.year, half.half, entry.group.id),
        )
        for entry in listed
    ]
    rows: list[list[tuple[str, p.Payload]]] = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(request.label("report.create_button"), p.ReportFor(half.year, half.half))])
    if edit:
        await request.edit(text, rows)
    else:
        await request.reply(text, rows)


async def ask_for_note(request: Request, half: HalfYear, found: notes.GroupNote) -> None:
    notes.ask_text(await request.person(), request.settings, half, found.group)
    params = {"name": found.group.name, "half": half_name(request, half), "max": notes.NOTE_MAX}
    if found.text:
        text = request.t("report.note_ask_replace", text=found.text, **params)
        rows: Rows = [
            [(request.label("report.note_delete_button"), p.ReportNoteDelete(half.year, half.half, found.group.id))]
        ]
    else:
        text, rows = request.t("report.note_ask", **params), ()
    await request.reply(text, rows)


def _half(payload: p.ReportNotes | p.ReportNoteFor | p.ReportNoteDelete) -> HalfYear:
    return HalfYear.of(payload.year, payload.half)


@_for_reader
async def notes_pressed(request: Request) -> None:
    """The button "Notizen" beside a half-year, or after a saved note."""
    assert isinstance(request.payload, p.ReportNotes)
    await request.answer()
    await show_notes(request, _half(request.payload), edit=False)


@_for_reader
async def note_group_pressed(request: Request) -> None:
    """A group's button in the list of notes: ask for its note."""
    assert isinstance(request.payload, p.ReportNoteFor)
    half = _half(request.payload)
    uow, me = await request.uow(), await request.person()
    found = await notes.group_by_id(uow, me, request.settings, half, request.payload.group_id, request.now())
    await request.answer()
    await ask_for_note(request, half, found)


@_for_reader
async def note_delete_pressed(request: Request) -> None:
    """The button "Notiz löschen" under the question for a note."""
    assert isinstance(request.payload, p.ReportNoteDelete)
    half = _half(request.payload)
    uow, me, now = await request.uow(), await request.person(), request.now()
    found = await notes.group_by_id(uow, me, request.settings, half, request.payload.group_id, now)
    saved = await notes.delete(uow, me, request.settings, half, found.group, now)
    await request.answer()
    await request.edit(rows=())
    await _tell_saved(request, half, saved)


async def note_text(request: Request, text: str) -> None:
    """The text of a guided note."""
    half, saved = await notes.answered(
        await request.uow(), await request.person(), request.settings, text, request.now()
    )
    await _tell_saved(request, half, saved)


def handlers() -> list[BaseHandler]:
    command = by_name("report")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], report_command, filters=filters.ChatType.PRIVATE)]


CALLBACKS: dict[type, Handler] = {
    p.ReportFor: half_year_pressed,
    p.ReportNotes: notes_pressed,
    p.ReportNoteFor: note_group_pressed,
    p.ReportNoteDelete: note_delete_pressed,
}

TEXT_ANSWERS: dict[Step, TextAnswer] = {Step.REPORT_NOTE: note_text}
