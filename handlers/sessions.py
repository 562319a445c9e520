"""The coordinator's session handlers: `/meeting`, `/reschedule` and `/cancel`,
one-line and guided (SPEC 3, `bot.core.session_flows`).

One-line forms act at once and say what was done. Without arguments:
- `/meeting`: group → day buttons → time buttons → title → place or "Ohne Ort"
  → a preview with the number of recipients, "Senden" and "Abbrechen";
- `/reschedule`: the upcoming sessions as buttons → day → time → "Verschieben"
  (`/reschedule 12` starts at the day);
- `/cancel`: the upcoming sessions as buttons → an optional reason → "Ja, absagen".
A pressed choice loses its buttons, and the next question says what was chosen.

This module holds `/meeting` and registers all three; `/reschedule` and
`/cancel` are `handlers.session_changes`, the day and time buttons
`handlers.session_buttons`.
"""

from __future__ import annotations

from datetime import datetime

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import meetings, membership, session_flows
from bot.core import recurrence as rec
from bot.core.commands import by_name
from bot.core.session_choices import from_day_code, from_time_code
from bot.core.steps import Step
from bot.render.recurrence import describe
from bot.render.texts import plural
from handlers import payloads as p
from handlers import session_changes as changes
from handlers.common import Handler, Request, action
from handlers.meetings import session_card
from handlers.session_buttons import abort_row, day_rows, day_text, time_rows, when_text

# --- guided /meeting ------------------------------------------------------------------


@action
async def schedule_meeting(request: Request) -> None:
    """`/meeting <group> <date> <time> <title> [| <location> [| <recurrence>]]`, or guided."""
    message = request.update.effective_message
    text = (message.text or "").split(maxsplit=1) if message else []
    uow, me = await request.uow(), await request.person()
    if len(text) < 2:
        groups = await membership.groups_to_choose(uow, me, request.settings)
        await request.reply(request.t("meetings.choose_group"), [[(g.name, p.MeetingForGroup(g.id))] for g in groups])
        return
    await confirm_scheduled(request, await meetings.schedule_command(uow, me, text[1], request.settings, request.now()))


async def meeting_group_pressed(request: Request) -> None:
    """The group for a new session was chosen: the day comes next."""
    assert isinstance(request.payload, p.MeetingForGroup)
    draft = await session_flows.begin(
        await request.uow(), await request.person(), request.payload.group_id, request.settings
    )
    await request.edit(rows=())
    await ask_next(request, draft)


async def meeting_day_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.MeetingDay)
    day = from_day_code(request.payload.day)
    draft = await session_flows.choose_day(
        await request.uow(), await request.person(), request.payload.group_id, day, request.settings, request.now()
    )
    await request.edit(rows=())
    await ask_next(request, draft)


async def meeting_time_pressed(request: Request) -> None:
    assert isinstance(request.payload, p.MeetingTime)
    payload = request.payload
    draft = await session_flows.choose_time(
        await request.uow(),
        await request.person(),
        payload.group_id,
        from_day_code(payload.day),
        from_time_code(payload.time),
        request.settings,
        request.now(),
    )
    await request.edit(rows=())
    await ask_next(request, draft)


async def meeting_text(request: Request, text: str) -> None:
    """A typed answer in the guided /meeting (a date, a time, the title, the place)."""
    draft = await session_flows.answer_text(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await ask_next(request, draft)


async def no_place_pressed(request: Request) -> None:
    draft = await session_flows.without_place(await request.uow(), await request.person(), request.settings)
    await request.edit(rows=())
    await ask_next(request, draft)


async def ask_next(request: Request, draft: session_flows.Draft) -> None:
    """The question the draft's stage asks, or the preview."""
    group = draft.group
    tz = request.settings.timezone
    if draft.stage == "day":
        rows = [*day_rows(request, p.MeetingDay, group.id), abort_row(request)]
        await request.reply(request.t("sessions.choose_day", group=group.name), rows)
    elif draft.stage == "time":
        assert draft.day is not None
        rows = [*time_rows(request, draft.day, p.MeetingTime, group.id), abort_row(request)]
        await request.reply(
            request.t("sessions.choose_time", group=group.name, day=day_text(draft.day, request.lang)), rows
        )
    elif draft.stage == "title":
        assert draft.day is not None and draft.at is not None
        await request.reply(
            request.t("sessions.ask_title", group=group.name, when=when_text(request, draft.day, draft.at, tz)),
            [abort_row(request)],
        )
    elif draft.stage == "location":
        await request.reply(
            request.t("sessions.ask_location", title=draft.title or ""),
            [[(request.label("sessions.no_place_button"), p.MeetingNoPlace()), *abort_row(request)]],
        )
    else:
        await request.reply(
            _preview(request, draft), [[(request.label("sessions.send_button"), p.SendMeeting()), *abort_row(request)]]
        )


def _preview(request: Request, draft: session_flows.Draft) -> str:
    assert draft.day is not None and draft.at is not None
    tz = request.settings.timezone
    lines = [
        request.t("sessions.preview_title"),
        "",
        request.t("meetings.card_title", title=draft.title or "", group=draft.group.name),
        request.t("meetings.card_when", when=when_text(request, draft.day, draft.at, tz)),
    ]
    if draft.location:
        lines.append(request.t("meetings.card_where", location=draft.location))
    if draft.recurrence:
        rule = rec.parse_recurrence(draft.recurrence, draft.day)
        series = describe(request.runtime.texts, rule, datetime.combine(draft.day, draft.at), request.lang)
        lines.append(request.t("meetings.card_series", series=series))
    if draft.recipients:
        recipients = request.t(
            plural("sessions.recipients", draft.recipients), count=draft.recipients, group=draft.group.name
        )
    else:
        recipients = request.t("sessions.recipients_none", group=draft.group.name)
    lines += ["", recipients, request.t("sessions.preview_hint")]
    return "\n".join(lines)


async def send_pressed(request: Request) -> None:
    """The "Senden" button under the preview: the session is created, the invitations go out."""
    scheduled = await session_flows.send(await request.uow(), await request.person(), request.settings, request.now())
    await request.edit(rows=())
    await confirm_scheduled(request, scheduled)


async def confirm_scheduled(request: Request, scheduled: meetings.Scheduled) -> None:
    first = scheduled.occurrences[0]
    reply: str = request.t("meetings.scheduled", id=first.id, invited=scheduled.invited)
    if len(scheduled.occurrences) > 1:
        reply += "\n" + request.t("meetings.series_created", count=len(scheduled.occurrences))
    await request.reply(session_card(request.runtime.texts, request.lang, first) + "\n\n" + reply)
    request.wake_deliveries()


async def drop_pressed(request: Request) -> None:
    """The "Abbrechen" button: the draft, the move or the cancellation is dropped; nothing changes."""
    await session_flows.drop(await request.uow(), await request.person(), request.settings)
    await request.edit(rows=())
    await request.reply(request.t("sessions.dropped"))


# --- registration -----------------------------------------------------------------------


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {
        "meeting": schedule_meeting,
        "reschedule": changes.reschedule_meeting,
        "cancel": changes.cancel_meeting,
    }
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]  # every name listed here is in the command table
        for name, callback in table.items()
    ]


TEXT_ANSWERS = {
    Step.MEETING: meeting_text,
    Step.RESCHEDULE: changes.move_text,
    Step.CANCEL_REASON: changes.cancel_reason_text,
}

CALLBACKS: dict[type[p.Payload], Handler] = {
    p.MeetingForGroup: meeting_group_pressed,
    p.MeetingDay: meeting_day_pressed,
    p.MeetingTime: meeting_time_pressed,
    p.MeetingNoPlace: no_place_pressed,
    p.SendMeeting: send_pressed,
    p.DropSessionDraft: drop_pressed,
    p.MoveSession: changes.move_session_pressed,
    p.MoveDay: changes.move_day_pressed,
    p.MoveTime: changes.move_time_pressed,
    p.ConfirmMove: changes.confirm_move_pressed,
    p.CancelSession: changes.cancel_session_pressed,
    p.CancelNoReason: changes.no_reason_pressed,
    p.ConfirmCancel: changes.confirm_cancel_pressed,
}
