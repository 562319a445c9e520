"""Minutes handlers: /minutes (alias /ergebnisprotokoll, /niederschrift), the
walk through the items, the review and approval buttons, the proposed
corrections, and what the delivery timer sends (the draft to those present,
the approved minutes with their Word document to the whole group). The rules
are in `bot.core.minutes` and `bot.core.minutes_review`."""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import meetings
from bot.core import minutes as core
from bot.core import minutes_review as review
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.people import name_of, require_coordinator
from bot.core.reminders import Due
from bot.core.steps import Step
from bot.render.minutes_docx import file_name, to_docx
from bot.render.minutes_text import item_block, minutes_text, overview_text, session_line
from bot.render.texts import Html, Texts, plural
from handlers import followup_payloads as fp
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.outbox import Batch, Document, Message, Part, Renderer
from handlers.registration import TextAnswer
from handlers.session_buttons import session_label
from storage.followup_models import MinutesStatus
from storage.models import DeliveryKind
from storage.uow import UnitOfWork


@action
async def minutes_command(request: Request) -> None:
    """`/minutes <id>`; without an id, the sessions held lately as buttons."""
    uow, me = await request.uow(), await request.person()
    require_coordinator(me, request.settings)
    if not request.args:
        held = await core.choices(uow, me, request.settings, request.now())
        if not held:
            await request.reply(request.t("minutes.no_sessions"))
            return
        rows: Rows = [[(session_label(o, request.lang), fp.MinutesFor(o.id))] for o in held]
        await request.reply(request.t("minutes.choose_session"), rows)
        return
    occurrence_id = meetings.parse_id(" ".join(request.args))
    await _open(request, occurrence_id)


async def session_chosen(request: Request) -> None:
    assert isinstance(request.payload, fp.MinutesFor)
    await request.answer()
    await request.edit(rows=())
    await _open(request, request.payload.occurrence_id)


async def _open(request: Request, occurrence_id: int) -> None:
    opened = await core.open_session(
        await request.uow(), await request.person(), occurrence_id, request.settings, request.now()
    )
    record = opened.record
    if opened.created:
        count = len(opened.minutes.items)
        await request.reply(request.t(plural("minutes.created", count), count=count, id=occurrence_id))
    if opened.walk is not None:
        await _show_walk(request, opened.walk)
    elif record is not None and record.locked:
        await _show_locked(request, record)
    elif record is not None:
        await _show_overview(request, record)


async def _show_walk(request: Request, walk: core.Walk) -> None:
    texts, lang = request.runtime.texts, request.lang
    record = core.Record(walk.minutes, walk.occurrence, list(walk.minutes.items))
    heading = request.t("minutes.walk_heading", number=walk.index + 1, count=walk.count, title=walk.item.title)
    parts = [str(session_line(texts, lang, record)), str(heading)]
    if walk.item.result or walk.item.decisions or walk.tasks:
        block = item_block(texts, lang, walk.index + 1, walk.count, walk.item, walk.tasks)
        parts.append(str(request.t("minutes.walk_current")) + "\n" + block)
    parts.append(str(request.t("minutes.walk_how")))
    minutes_id = walk.minutes.id
    rows: list[list[tuple[str, p.Payload]]] = [
        [(request.label("minutes.skip_button"), fp.MinutesGo(minutes_id, walk.index + 1))]
    ]
    if walk.index > 0:
        rows[0].append((request.label("minutes.back_button"), fp.MinutesGo(minutes_id, walk.index - 1)))
    rows.append([(request.label("minutes.add_button"), fp.MinutesAdd(minutes_id))])
    await request.reply(Html("\n\n".join(parts)), rows)


async def _show_overview(request: Request, record: core.Record) -> None:
    text = overview_text(request.runtime.texts, request.lang, record, request.settings.timezone)
    minutes_id = record.minutes.id
    first: list[tuple[str, p.Payload]]
    if record.minutes.status is MinutesStatus.DRAFT:
        first = [(request.label("minutes.circulate_button"), fp.MinutesCirculate(minutes_id))]
    else:
        first = [(request.label("minutes.approve_button"), fp.MinutesApprove(minutes_id, False))]
    rows: Rows = [
        first,
        [
            (request.label("minutes.edit_button"), fp.MinutesGo(minutes_id, 0)),
            (request.label("minutes.add_button"), fp.MinutesAdd(minutes_id)),
        ],
    ]
    await request.reply(text, rows)


async def _show_locked(request: Request, record: core.Record) -> None:
    texts, lang = request.runtime.texts, request.lang
    await request.reply(minutes_text(texts, lang, record, "minutes.final_heading"))
    await request.reply(request.t("minutes.locked_shown", id=record.occurrence.id))
    await request.send_document(to_docx(texts, lang, record), file_name(record))


async def _after_step(request: Request, shown: core.Walk | core.Record) -> None:
    if isinstance(shown, core.Walk):
        await _show_walk(request, shown)
    else:
        await _show_overview(request, shown)


async def go_pressed(request: Request) -> None:
    """ "Überspringen", "Zurück", "Bearbeiten"."""
    assert isinstance(request.payload, fp.MinutesGo)
    payload = request.payload
    shown = await core.go(
        await request.uow(), await request.person(), payload.minutes_id, payload.index, request.settings
    )
    await request.answer()
    await request.edit(rows=())
    await _after_step(request, shown)


async def result_text(request: Request, text: str) -> None:
    """The result of the item the walk is at."""
    shown = await core.submit_result(await request.uow(), await request.person(), text, request.settings, request.now())
    await request.reply(request.t("minutes.saved"))
    await _after_step(request, shown)


async def add_pressed(request: Request) -> None:
    """ "Punkt hinzufügen"."""
    assert isinstance(request.payload, fp.MinutesAdd)
    await core.start_adding(await request.uow(), await request.person(), request.payload.minutes_id, request.settings)
    await request.answer()
    await request.reply(request.t("minutes.ask_title"))


async def title_text(request: Request, text: str) -> None:
    walk = await core.submit_title(await request.uow(), await request.person(), text, request.settings, request.now())
    await _show_walk(request, walk)


async def circulate_pressed(request: Request) -> None:
    """ "Zur Korrektur senden"."""
    assert isinstance(request.payload, fp.MinutesCirculate)
    done = await review.circulate(
        await request.uow(), await request.person(), request.payload.minutes_id, request.settings, request.now()
    )
    await request.answer()
    await request.edit(rows=())
    until = done.record.minutes.review_until
    assert until is not None
    when = format_when(until, request.settings.timezone, request.lang)
    key = plural("minutes.circulated", done.recipients)
    text = request.t(key, count=done.recipients, until=when, id=done.record.occurrence.id)
    if done.recipients == 0:
        text = Html(text + "\n" + request.t("minutes.nobody_present", id=done.record.occurrence.id))
    await request.reply(text)
    await _show_overview(request, done.record)
    request.wake_deliveries()


async def approve_pressed(request: Request) -> None:
    """ "Freigeben", then the confirmation."""
    assert isinstance(request.payload, fp.MinutesApprove)
    payload = request.payload
    uow, me = await request.uow(), await request.person()
    if not payload.confirmed:
        minutes = await review.ask_approval(uow, me, payload.minutes_id, request.settings)
        await request.answer()
        rows: Rows = [[(request.label("minutes.confirm_button"), fp.MinutesApprove(minutes.id, True))]]
        await request.reply(request.t("minutes.confirm_approval", id=minutes.occurrence_id), rows)
        return
    approved = await review.approve(uow, me, payload.minutes_id, request.settings, request.now())
    await request.answer()
    await request.edit(rows=())
    key = plural("minutes.approved", approved.recipients)
    await request.reply(
        request.t(key, id=approved.record.occurrence.id, count=approved.recipients, tasks=approved.tasks)
    )
    request.wake_deliveries()


async def correct_pressed(request: Request) -> None:
    """ "Korrektur vorschlagen" under the draft."""
    assert isinstance(request.payload, fp.MinutesCorrect)
    minutes = await review.start_correction(
        await request.uow(), await request.person(), request.payload.minutes_id, request.settings, request.now()
    )
    await request.answer()
    await request.reply(request.t("minutes.ask_correction", id=minutes.occurrence_id))


async def correction_text(request: Request, text: str) -> None:
    uow, me = await request.uow(), await request.person()
    done = await review.submit_correction(uow, me, text, request.settings, request.now())
    await request.reply(request.t("minutes.correction_saved"))
    session = done.minutes.occurrence
    for chat_id in done.coordinators:
        lang = await request.language_of(chat_id)
        words = request.runtime.texts.get(
            lang,
            "minutes.correction_notice",
            name=name_of(me),
            id=session.id,
            title=session.meeting.title,
            text=done.correction.text,
        )
        rows: Rows = [[(request.runtime.texts.plain(lang, "minutes.open_button"), fp.MinutesFor(session.id))]]
        await request.notify(chat_id, words, rows)


# --- what the delivery timer sends ---------------------------------------------


async def _record(uow: UnitOfWork, item: Due, batch: Batch) -> core.Record:
    pending = await batch.memo(("minutes-deliveries",), uow.minutes.pending_deliveries)
    minutes_id = await core.minutes_of_delivery(uow, item.delivery_id, pending)
    return await batch.memo(("minutes", minutes_id), lambda: core.shown(uow, minutes_id))


async def render_draft(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """The draft to one who was present, with "Korrektur vorschlagen"."""
    record = await _record(uow, item, batch)
    texts = runtime.texts
    until = record.minutes.review_until
    when = format_when(until, runtime.settings.timezone, lang) if until is not None else ""
    text = Html(
        minutes_text(texts, lang, record, "minutes.draft_heading")
        + "\n\n"
        + texts.get(lang, "minutes.draft_how", until=when)
    )
    rows: Rows = [[(texts.plain(lang, "minutes.correct_button"), fp.MinutesCorrect(record.minutes.id))]]
    return [Message(text, rows)]


async def render_final(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """The approved minutes to a member of the group: the text, then the Word document."""
    record = await _record(uow, item, batch)
    texts = runtime.texts
    data = await batch.memo(("minutes-docx", record.minutes.id, lang), lambda: _docx(texts, lang, record))
    return [Message(minutes_text(texts, lang, record, "minutes.final_heading")), Document(data, file_name(record))]


async def _docx(texts: Texts, lang: str, record: core.Record) -> bytes:
    return to_docx(texts, lang, record)


RENDERERS: dict[DeliveryKind, Renderer] = {
    DeliveryKind.MINUTES_DRAFT: render_draft,
    DeliveryKind.MINUTES_FINAL: render_final,
}


def handlers() -> list[BaseHandler]:
    command = by_name("minutes")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], minutes_command, filters=filters.ChatType.PRIVATE)]


TEXT_ANSWERS: dict[Step, TextAnswer] = {
    Step.MINUTES_RESULT: result_text,
    Step.MINUTES_TITLE: title_text,
    Step.MINUTES_CORRECTION: correction_text,
}

CALLBACKS: dict[type, Handler] = {
    fp.MinutesFor: session_chosen,
    fp.MinutesGo: go_pressed,
    fp.MinutesAdd: add_pressed,
    fp.MinutesCirculate: circulate_pressed,
    fp.MinutesApprove: approve_pressed,
    fp.MinutesCorrect: correct_pressed,
}
