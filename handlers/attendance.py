"""Attendance handlers: /attendance (alias /anwesenheit), /here (/hier, /da),
the "Ich bin da" button, /sheet (/teilnahmeliste, /liste). The rules are in
`bot.core.attendance`.

- `/attendance <id>`: the group's members, each a button that switches
  anwesend → entschuldigt → abwesend (a press saves it), pre-filled from the
  check-ins and answers; "Gast hinzufügen" asks for "Name, Organisation";
  "Fertig" saves the rest and shows the summary. Without an id: the sessions
  whose attendance may be recorded now, as buttons.
- `/here [id]`: checks the person in (and the members they stand in for);
  several sessions in the window: buttons to choose.
- `/sheet <id>`: the sign-in sheet as a Word document; without an id: the
  coming sessions as buttons.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import attendance as core
from bot.core import meetings
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.people import name_of, require_coordinator
from bot.core.reminders import Due
from bot.core.steps import Step
from bot.render import sign_in_sheet
from bot.render.texts import Html
from handlers import followup_payloads as fp
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.registration import TextAnswer
from handlers.session_buttons import session_label
from storage.followup_models import AttendanceStatus
from storage.models import Occurrence

MARKS = {
    AttendanceStatus.PRESENT: "✅",
    AttendanceStatus.EXCUSED: "🟡",
    AttendanceStatus.ABSENT: "❌",
}
CODES = {AttendanceStatus.PRESENT: 1, AttendanceStatus.EXCUSED: 2, AttendanceStatus.ABSENT: 3}
"""A status in a button's data (`fp.AttendanceSet`)."""
NEXT = {
    AttendanceStatus.PRESENT: AttendanceStatus.EXCUSED,
    AttendanceStatus.EXCUSED: AttendanceStatus.ABSENT,
    AttendanceStatus.ABSENT: AttendanceStatus.PRESENT,
}


def _when(lang: str, occurrence: Occurrence) -> str:
    return format_when(occurrence.starts_at, ZoneInfo(occurrence.meeting.timezone), lang)


def _session_line(request: Request, occurrence: Occurrence) -> Html:
    return request.t(
        "attendance.session",
        id=occurrence.id,
        title=occurrence.meeting.title,
        group=occurrence.meeting.group.name,
        when=_when(request.lang, occurrence),
    )


# --- /attendance -----------------------------------------------------------------


def _list(request: Request, sheet: core.Sheet) -> tuple[Html, Rows]:
    """The list: one line and one button per member, the guests, the buttons below."""
    occurrence = sheet.occurrence
    lines = [request.t("attendance.list_title"), _session_line(request, occurrence), ""]
    rows: list[list[tuple[str, p.Payload]]] = []
    for entry in sheet.entries:
        notes = []
        if entry.answer is not None:
            notes.append(request.label(f"attendance.answer_{entry.answer.value}"))
        if entry.checked_in:
            if entry.deputy is not None:
                notes.append(request.label("attendance.checked_in_by", deputy=name_of(entry.deputy)))
            else:
                notes.append(request.label("attendance.checked_in"))
        if not entry.written:
            notes.append(request.label("attendance.prefilled"))
        organisation = f" ({entry.person.organisation})" if entry.person.organisation else ""
        lines.append(
            request.t(
                "attendance.list_line",
                mark=MARKS[entry.status],
                name=name_of(entry.person) + organisation,
                status=request.label(f"attendance.status_{entry.status.value}"),
                notes=(" · " + " · ".join(notes)) if notes else "",
            )
        )
        label = f"{MARKS[entry.status]} {name_of(entry.person)}"[:60]
        rows.append([(label, fp.AttendanceSet(occurrence.id, entry.person.id, CODES[NEXT[entry.status]]))])
    if not sheet.entries:
        lines.append(request.t("attendance.no_members"))
    for guest in sheet.guests:
        organisation = f" ({guest.organisation})" if guest.organisation else ""
        lines.append(request.t("attendance.guest_line", name=(guest.guest_name or "") + organisation))
    lines += ["", request.t("attendance.list_how")]
    rows.append(
        [
            (request.label("attendance.guest_button"), fp.AttendanceGuest(occurrence.id)),
            (request.label("attendance.done_button"), fp.AttendanceDone(occurrence.id)),
        ]
    )
    return Html("\n".join(lines)), rows


@action
async def attendance_command(request: Request) -> None:
    """`/attendance <id>`; without an id the sessions to choose."""
    uow, me = await request.uow(), await request.person()
    if not request.args:
        sessions = await core.recent_sessions(uow, me, request.settings, request.now())
        if not sessions:
            await request.reply(request.t("attendance.none_recent"))
            return
        rows: Rows = [[(session_label(o, request.lang), fp.AttendanceOpen(o.id))] for o in sessions]
        await request.reply(request.t("attendance.choose"), rows)
        return
    require_coordinator(me, request.settings)
    sheet = await core.open_list(uow, me, meetings.parse_id(request.args[0]), request.settings, request.now())
    await request.reply(*_list(request, sheet))


async def open_pressed(request: Request) -> None:
    assert isinstance(request.payload, fp.AttendanceOpen)
    uow, me = await request.uow(), await request.person()
    sheet = await core.open_list(uow, me, request.payload.occurrence_id, request.settings, request.now())
    await request.answer()
    await request.reply(*_list(request, sheet))


async def set_pressed(request: Request) -> None:
    assert isinstance(request.payload, fp.AttendanceSet)
    payload = request.payload
    status = next((s for s, code in CODES.items() if code == payload.status), None)
    if status is None:
        raise Refusal("buttons.stale")
    uow, me = await request.uow(), await request.person()
    sheet = await core.set_status(
        uow, me, payload.occurrence_id, payload.person_id, status, request.settings, request.now()
    )
    entry = next(e for e in sheet.entries if e.person.id == payload.person_id)
    await request.answer(
        request.label(
            "attendance.saved", name=name_of(entry.person), status=request.label(f"attendance.status_{status.value}")
        )
    )
    await request.edit(*_list(request, sheet))


async def guest_pressed(request: Request) -> None:
    assert isinstance(request.payload, fp.AttendanceGuest)
    uow, me = await request.uow(), await request.person()
    occurrence = await core.ask_guest(uow, me, request.payload.occurrence_id, request.settings, request.now())
    await request.answer()
    await request.reply(request.t("attendance.ask_guest", id=occurrence.id))


async def guest_text(request: Request, text: str) -> None:
    """The guest's "Name, Organisation": saved, the list shown again."""
    uow, me = await request.uow(), await request.person()
    sheet = await core.add_guest(uow, me, text, request.settings, request.now())
    guest = sheet.guests[-1] if sheet.guests else None
    name = (guest.guest_name or "") if guest is not None else ""
    await request.reply(request.t("attendance.guest_added", name=name, id=sheet.occurrence.id))
    await request.reply(*_list(request, sheet))


async def done_pressed(request: Request) -> None:
    assert isinstance(request.payload, fp.AttendanceDone)
    uow, me = await request.uow(), await request.person()
    summary = await core.complete(uow, me, request.payload.occurrence_id, request.settings, request.now())
    await request.answer()
    await request.edit(rows=())
    await request.reply(
        request.t(
            "attendance.summary",
            id=summary.occurrence.id,
            title=summary.occurrence.meeting.title,
            present=summary.present,
            excused=summary.excused,
            absent=summary.absent,
            guests=summary.guests,
        )
    )


# --- /here and "Ich bin da" ----------------------------------------------------------


async def _check_in(request: Request, occurrence_id: int | None) -> None:
    uow, me = await request.uow(), await request.person()
    result = await core.check_in(uow, me, occurrence_id, request.settings, request.now())
    if isinstance(result, core.Choose):
        rows: Rows = [[(session_label(o, request.lang), fp.CheckIn(o.id))] for o in result.sessions]
        await request.reply(request.t("attendance.here_choose"), rows)
        return
    await request.answer(request.label("attendance.here_toast"))
    lines = []
    if result.own:
        lines.append(request.t("attendance.here_done", session=_session_line(request, result.occurrence)))
    else:
        lines.append(request.t("attendance.here_session", session=_session_line(request, result.occurrence)))
    for member in result.represented:
        lines.append(request.t("attendance.here_for", name=name_of(member)))
    await request.reply(Html("\n".join(lines)))


@action
async def here_command(request: Request) -> None:
    """`/here [id]`."""
    await _check_in(request, meetings.parse_id(request.args[0]) if request.args else None)


async def check_in_pressed(request: Request) -> None:
    """ "Ich bin da" (or a session chosen after /here)."""
    assert isinstance(request.payload, fp.CheckIn)
    await _check_in(request, request.payload.occurrence_id)


def check_in_rows(runtime: Runtime, item: Due, occurrence: Occurrence, lang: str) -> Rows:
    """The "Ich bin da" button for a message about a session, when it gets one
    (the last reminder; a notice when no reminder comes any more)."""
    if not core.offers_check_in(item.kind, item.lead_seconds, runtime.clock(), occurrence.starts_at, runtime.settings):
        return []
    return [[(runtime.texts.plain(lang, "attendance.here_button"), fp.CheckIn(occurrence.id))]]


# --- /sheet ----------------------------------------------------------------------


async def _send_sheet(request: Request, occurrence_id: int) -> None:
    uow, me = await request.uow(), await request.person()
    sheet = await core.sign_in(uow, me, occurrence_id, request.settings)
    data = sign_in_sheet.to_docx(sheet, request.runtime.texts, request.lang)
    await request.answer()
    await request.send_document(
        data,
        sign_in_sheet.file_name(sheet),
        caption=request.label("attendance.sheet_caption", id=sheet.occurrence.id, count=len(sheet.names)),
    )


@action
async def sheet_command(request: Request) -> None:
    """`/sheet <id>`; without an id the coming sessions to choose."""
    uow, me = await request.uow(), await request.person()
    require_coordinator(me, request.settings)
    if request.args:
        await _send_sheet(request, meetings.parse_id(request.args[0]))
        return
    sessions = await core.sheet_sessions(uow, me, request.settings, request.now())
    if not sessions:
        await request.reply(request.t("attendance.sheet_none"))
        return
    rows: Rows = [[(session_label(o, request.lang), fp.SheetFor(o.id))] for o in sessions]
    await request.reply(request.t("attendance.sheet_choose"), rows)


async def sheet_pressed(request: Request) -> None:
    assert isinstance(request.payload, fp.SheetFor)
    await _send_sheet(request, request.payload.occurrence_id)


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {"attendance": attendance_command, "here": here_command, "sheet": sheet_command}
    found: list[BaseHandler] = []
    for name, callback in table.items():
        command = by_name(name)
        assert command is not None
        found.append(CommandHandler([command.name, *command.aliases], callback, filters=private))
    return found


TEXT_ANSWERS: dict[Step, TextAnswer] = {Step.ATTENDANCE_GUEST: guest_text}

CALLBACKS: dict[type, Handler] = {
    fp.CheckIn: check_in_pressed,
    fp.AttendanceOpen: open_pressed,
    fp.AttendanceSet: set_pressed,
    fp.AttendanceGuest: guest_pressed,
    fp.AttendanceDone: done_pressed,
    fp.SheetFor: sheet_pressed,
}


def kept_check_in(request: Request) -> Rows:
    """The "Ich bin da" row of the pressed message, kept when another button
    (Zusage, Absage) redraws its buttons."""
    query = request.update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query is not None and query.message else None
    rows: list[list[tuple[str, p.Payload]]] = []
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            payload = p.Payload.decode(button.callback_data if isinstance(button.callback_data, str) else None)
            if isinstance(payload, fp.CheckIn):
                rows.append([(button.text, payload)])
    return rows
