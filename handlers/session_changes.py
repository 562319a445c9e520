"""The coordinator's `/reschedule` and `/cancel` (SPEC 3, `bot.core.session_flows`):
one-line at once; without arguments the upcoming sessions as buttons, then day
and time buttons and "Verschieben?", or an optional reason and "Ja, absagen".
Registered by `handlers.sessions`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core import meetings, session_flows
from bot.core.dates import format_when
from bot.core.session_choices import day_code, from_day_code, from_time_code, time_code
from handlers import payloads as p
from handlers.common import Request, action
from handlers.meetings import session_card
from handlers.session_buttons import abort_row, day_rows, day_text, session_label, time_rows, told, when_text
from storage.models import Occurrence

# --- /reschedule ------------------------------------------------------------------------


async def _offer_sessions(request: Request, key: str, make: type[p.MoveSession] | type[p.CancelSession]) -> None:
    found = await session_flows.sessions_to_change(
        await request.uow(), await request.person(), request.settings, request.now()
    )
    if not found:
        await request.reply(request.t("sessions.none_to_change"))
        return
    await request.reply(request.t(key), [[(session_label(o, request.lang), make(o.id))] for o in found])


@action
async def reschedule_meeting(request: Request) -> None:
    """`/reschedule <id> <date> <time>`; `/reschedule <id>`: the day as buttons; without
    arguments: the sessions as buttons."""
    if not request.args:
        await _offer_sessions(request, "sessions.choose_move", p.MoveSession)
        return
    uow, me = await request.uow(), await request.person()
    if len(request.args) == 1:
        await ask_move(
            request, await session_flows.move_command(uow, me, request.args[0], request.settings, request.now())
        )
        return
    occurrence = await meetings.reschedule_command(uow, me, request.args, request.settings, request.now())
    await told_moved(request, occurrence)


async def told_moved(request: Request, occurrence: Occurrence) -> None:
    await request.reply(
        request.t("meetings.rescheduled", id=occurrence.id)
        + "\n\n"
        + session_card(request.runtime.texts, request.lang, occurrence)
    )
    request.wake_deliveries()


async def move_session_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.MoveSession)
    change = await session_flows.move_begin(
        await request.uow(), await request.person(), request.payload.occurrence_id, request.settings, request.now()
    )
    await request.edit(rows=())
    await ask_move(request, change)


async def move_day_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.MoveDay)
    payload = request.payload
    change = await session_flows.move_day(
        await request.uow(),
        await request.person(),
        payload.occurrence_id,
        from_day_code(payload.day),
        request.settings,
        request.now(),
    )
    await request.edit(rows=())
    await ask_move(request, change)


async def move_time_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.MoveTime)
    payload = request.payload
    change = await session_flows.move_time(
        await request.uow(),
        await request.person(),
        payload.occurrence_id,
        from_day_code(payload.day),
        from_time_code(payload.time),
        request.settings,
        request.now(),
    )
    await request.edit(rows=())
    await ask_move(request, change)


async def move_text(request: Request, text: str) -> None:
    """A typed day or time while moving a session."""
    change = await session_flows.move_text(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await ask_move(request, change)


async def ask_move(request: Request, change: session_flows.Change) -> None:
    """The next question of a move: the day, the time, or the confirmation."""
    occurrence = change.occurrence
    tz = ZoneInfo(occurrence.meeting.timezone)
    now_when = format_when(occurrence.starts_at, tz, request.lang)
    if change.day is None:
        local = occurrence.starts_at.astimezone(tz)
        rows = day_rows(request, p.MoveDay, occurrence.id, near=local.date())
        await request.reply(
            request.t("sessions.move_day", id=occurrence.id, when=now_when), [*rows, abort_row(request)]
        )
    elif change.at is None:
        own = occurrence.starts_at.astimezone(tz).time().replace(tzinfo=None)
        rows = time_rows(request, change.day, p.MoveTime, occurrence.id, keep=own)
        text = request.t("sessions.move_time", id=occurrence.id, day=day_text(change.day, request.lang))
        await request.reply(text, [*rows, abort_row(request)])
    else:
        text = request.t(
            "sessions.move_confirm",
            id=occurrence.id,
            title=occurrence.meeting.title,
            group=occurrence.meeting.group.name,
            before=now_when,
            after=when_text(request, change.day, change.at, tz),
        )
        confirm = p.ConfirmMove(occurrence.id, day_code(change.day), time_code(change.at))
        await request.reply(
            text + "\n" + told(request, change.recipients),
            [[(request.label("sessions.move_button"), confirm), *abort_row(request)]],
        )


async def confirm_move_pressed(request: Request) -> None:
    """The "Verschieben" button: the session moves, the members are told."""
    assert isinstance(request.payload, p.ConfirmMove)
    payload = request.payload
    occurrence = await session_flows.move_confirm(
        await request.uow(),
        await request.person(),
        payload.occurrence_id,
        from_day_code(payload.day),
        from_time_code(payload.time),
        request.settings,
        request.now(),
    )
    await request.edit(rows=())
    await told_moved(request, occurrence)


# --- /cancel ----------------------------------------------------------------------------


@action
async def cancel_meeting(request: Request) -> None:
    """`/cancel <id> [reason]` at once; without arguments: the sessions as buttons."""
    if not request.args:
        await _offer_sessions(request, "sessions.choose_cancel", p.CancelSession)
        return
    occurrence = await meetings.cancel_command(
        await request.uow(), await request.person(), request.args, request.settings, request.now()
    )
    await told_cancelled(request, occurrence)


async def told_cancelled(request: Request, occurrence: Occurrence) -> None:
    text: str = request.t("meetings.cancelled", id=occurrence.id, title=occurrence.meeting.title)
    if occurrence.cancel_reason:
        text += "\n" + request.t("sessions.reason_line", reason=occurrence.cancel_reason)
    await request.reply(text)
    request.wake_deliveries()


async def cancel_session_pressed(request: Request) -> None:
    """A session to cancel was chosen: ask for the reason."""
    assert isinstance(request.payload, p.CancelSession)
    change = await session_flows.cancel_begin(
        await request.uow(), await request.person(), request.payload.occurrence_id, request.settings, request.now()
    )
    await request.edit(rows=())
    occurrence = change.occurrence
    await request.reply(
        request.t("sessions.cancel_ask_reason", **_about(request, occurrence)),
        [[(request.label("sessions.no_reason_button"), p.CancelNoReason(occurrence.id)), *abort_row(request)]],
    )


def _about(request: Request, occurrence: Occurrence) -> dict[str, object]:
    meeting = occurrence.meeting
    when = format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), request.lang)
    return {"id": occurrence.id, "title": meeting.title, "group": meeting.group.name, "when": when}


async def cancel_reason_text(request: Request, text: str) -> None:
    """The typed reason: the confirmation comes next."""
    change = await session_flows.cancel_reason(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await ask_cancel(request, change)


async def no_reason_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.CancelNoReason)
    change = await session_flows.cancel_without_reason(
        await request.uow(), await request.person(), request.payload.occurrence_id, request.settings, request.now()
    )
    await request.edit(rows=())
    await ask_cancel(request, change)


async def ask_cancel(request: Request, change: session_flows.Change) -> None:
    """The confirmation: which session, the reason, how many are told."""
    occurrence = change.occurrence
    lines = [request.t("sessions.cancel_confirm", **_about(request, occurrence))]
    if change.reason:
        lines.append(request.t("sessions.reason_line", reason=change.reason))
    else:
        lines.append(request.t("sessions.without_reason"))
    lines.append(told(request, change.recipients))
    confirm = p.ConfirmCancel(occurrence.id, change.reason is not None)
    await request.reply(
        "\n".join(lines),
        [
            [(request.label("sessions.confirm_cancel_button"), confirm)],
            [(request.label("sessions.keep_button"), p.DropSessionDraft())],
        ],
    )


async def confirm_cancel_pressed(request: Request) -> None:
    """The "Ja, absagen" button: the session is cancelled, the members are told (with the reason)."""
    assert isinstance(request.payload, p.ConfirmCancel)
    payload = request.payload
    occurrence = await session_flows.cancel_confirm(
        await request.uow(),
        await request.person(),
        payload.occurrence_id,
        payload.reason,
        request.settings,
        request.now(),
    )
    await request.edit(rows=())
    await told_cancelled(request, occurrence)
