"""Meeting handlers: /meeting, /meetings, /reschedule, /cancel, the RSVP and
calendar buttons, and how a session looks in a message."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import agenda, meetings, membership, people, reminders
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.recurrence import from_rrule
from bot.core.reminders import Due
from bot.core.steps import Step
from bot.render.ics import session_file
from bot.render.recurrence import describe
from bot.render.texts import Html, Texts
from handlers import agenda_messages
from handlers import payloads as p
from handlers.common import Request, Rows, Runtime, action
from handlers.outbox import Batch, Message, Part, Renderer
from storage.models import SESSION_KINDS, DeliveryKind, Occurrence, RsvpAnswer
from storage.uow import UnitOfWork

ANSWERS = {"yes": RsvpAnswer.YES, "no": RsvpAnswer.NO, "maybe": RsvpAnswer.MAYBE}


def session_card(texts: Texts, lang: str, occurrence: Occurrence) -> Html:
    """Group, title, date and time, place and id of one session."""
    meeting = occurrence.meeting
    tz = ZoneInfo(meeting.timezone)
    lines = [
        texts.get(lang, "meetings.card_title", title=meeting.title, group=meeting.group.name),
        texts.get(lang, "meetings.card_when", when=format_when(occurrence.starts_at, tz, lang)),
    ]
    if meeting.location:
        lines.append(texts.get(lang, "meetings.card_where", location=meeting.location))
    if meeting.rrule:
        rule = from_rrule(meeting.rrule, meeting.timezone)
        lines.append(texts.get(lang, "meetings.card_series", series=describe(texts, rule, meeting.start_local, lang)))
    lines.append(texts.get(lang, "meetings.card_id", id=occurrence.id))
    return Html("\n".join(lines))


def answer_buttons(texts: Texts, lang: str, occurrence_id: int) -> Rows:
    return [
        [
            (texts.plain(lang, "meetings.yes_button"), p.Answer(occurrence_id, "yes")),
            (texts.plain(lang, "meetings.no_button"), p.Answer(occurrence_id, "no")),
            (texts.plain(lang, "meetings.maybe_button"), p.Answer(occurrence_id, "maybe")),
        ],
        [(texts.plain(lang, "meetings.calendar_button"), p.CalendarFile(occurrence_id))],
    ]


def counts_line(texts: Texts, lang: str, counts: Counter[RsvpAnswer]) -> Html:
    return texts.get(
        lang,
        "meetings.counts",
        yes=counts[RsvpAnswer.YES],
        no=counts[RsvpAnswer.NO],
        maybe=counts[RsvpAnswer.MAYBE],
    )


@action
async def schedule_meeting(request: Request) -> None:
    """`/meeting <group> <date> <time> <title> [| <location> [| <recurrence>]]`."""
    message = request.update.effective_message
    text = (message.text or "").split(maxsplit=1) if message else []
    uow, me = await request.uow(), await request.person()
    if len(text) < 2:
        groups = await membership.groups_to_choose(uow, me, request.settings)
        await request.reply(request.t("meetings.choose_group"), [[(g.name, p.MeetingForGroup(g.id))] for g in groups])
        return
    await confirm_scheduled(request, await meetings.schedule_command(uow, me, text[1], request.settings, request.now()))


async def meeting_group_pressed(request: Request) -> None:
    """The group for a new session was chosen: ask for date, time and title."""
    assert isinstance(request.payload, p.MeetingForGroup)
    group = await meetings.start_guided(
        await request.uow(), await request.person(), request.payload.group_id, request.settings
    )
    await request.edit(rows=())
    await request.reply(request.t("meetings.ask_details", group=group.name))


async def guided_details(request: Request, text: str) -> None:
    """The coordinator's answer to "date, time, title?"."""
    scheduled = await meetings.submit_guided(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await confirm_scheduled(request, scheduled)


async def confirm_scheduled(request: Request, scheduled: meetings.Scheduled) -> None:
    first = scheduled.occurrences[0]
    reply: str = request.t("meetings.scheduled", id=first.id, invited=scheduled.invited)
    if len(scheduled.occurrences) > 1:
        reply += "\n" + request.t("meetings.series_created", count=len(scheduled.occurrences))
    await request.reply(session_card(request.runtime.texts, request.lang, first) + "\n\n" + reply)
    request.wake_deliveries()


@action
async def list_meetings(request: Request) -> None:
    """`/meetings [group]`: the next sessions with answer buttons."""
    uow, me = await request.uow(), await request.person()
    group = await membership.find_group(uow, " ".join(request.args)) if request.args else None
    found = await meetings.upcoming_for(uow, me, request.settings, request.now(), group)
    coordinator = people.is_coordinator(me, request.settings)
    if not found:
        await request.reply(request.t("meetings.none"))
        return
    texts = request.runtime.texts
    for item in found:
        text: str = session_card(texts, request.lang, item.occurrence)
        if item.answer is not None:
            text += "\n" + request.t("meetings.your_answer", answer=request.t(f"meetings.answer_{item.answer.value}"))
        if coordinator:
            text += "\n" + counts_line(texts, request.lang, item.counts)
        await request.reply(text, answer_buttons(texts, request.lang, item.occurrence.id))


@action
async def reschedule_meeting(request: Request) -> None:
    """`/reschedule <id> <date> <time>`."""
    occurrence = await meetings.reschedule_command(
        await request.uow(), await request.person(), request.args, request.settings, request.now()
    )
    await request.reply(
        request.t("meetings.rescheduled", id=occurrence.id)
        + "\n\n"
        + session_card(request.runtime.texts, request.lang, occurrence)
    )
    request.wake_deliveries()


@action
async def cancel_meeting(request: Request) -> None:
    """`/cancel <id>`."""
    occurrence = await meetings.cancel_command(
        await request.uow(), await request.person(), request.args, request.settings, request.now()
    )
    await request.reply(request.t("meetings.cancelled", id=occurrence.id, title=occurrence.meeting.title))
    request.wake_deliveries()


async def answer_pressed(request: Request) -> None:
    """Zusage / Absage / Vielleicht under a session."""
    assert isinstance(request.payload, p.Answer)
    value = ANSWERS.get(request.payload.answer)
    if value is None:
        raise Refusal("buttons.stale")
    uow, me = await request.uow(), await request.person()
    await meetings.answer(uow, me, request.payload.occurrence_id, value, request.settings, request.now())
    await request.answer(request.label("meetings.answer_saved", answer=request.label(f"meetings.answer_{value.value}")))


async def calendar_pressed(request: Request) -> None:
    """The calendar file of a session, as a document."""
    assert isinstance(request.payload, p.CalendarFile)
    entry = await meetings.calendar_entry(
        await request.uow(), await request.person(), request.payload.occurrence_id, request.settings
    )
    data, name = session_file(entry)
    await request.answer()
    await request.send_document(data, name, caption=request.label("meetings.calendar_caption"))


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {
        "meeting": schedule_meeting,
        "meetings": list_meetings,
        "reschedule": reschedule_meeting,
        "cancel": cancel_meeting,
    }
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]  # every name listed here is in the command table
        for name, callback in table.items()
    ]


TEXT_ANSWERS = {Step.MEETING: guided_details}

CALLBACKS = {
    p.MeetingForGroup: meeting_group_pressed,
    p.Answer: answer_pressed,
    p.CalendarFile: calendar_pressed,
}


async def render_session(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """An invitation, a reminder, a new time or a cancellation, for one member: the
    session's card, its agenda, and the answer buttons."""
    texts = runtime.texts
    occurrence_id = item.occurrence_id
    assert occurrence_id is not None
    occurrence = await batch.memo(("occurrence", occurrence_id), lambda: meetings.find_occurrence(uow, occurrence_id))
    assert occurrence is not None
    card = session_card(texts, lang, occurrence)
    if item.kind is DeliveryKind.CANCELLED:
        return [Message(Html(texts.get(lang, "reminders.cancelled") + "\n\n" + card))]
    header = {
        DeliveryKind.INVITATION: "reminders.invitation",
        DeliveryKind.MOVED: "reminders.moved",
        DeliveryKind.REMINDER: "reminders.reminder",
    }[item.kind]
    text = texts.get(lang, header) + "\n\n" + card
    items = await batch.memo(("agenda", occurrence_id), lambda: agenda.items_on(uow, occurrence_id))
    text += "\n\n" + agenda_messages.agenda_block(texts, lang, items)
    if reminders.calls_for_topics(item, runtime.settings):
        text += "\n\n" + texts.get(lang, "reminders.call_for_agenda", slug=occurrence.meeting.group.slug)
    text += "\n\n" + texts.get(lang, "reminders.question")
    return [Message(Html(text), list(answer_buttons(texts, lang, occurrence.id)))]


RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_session for kind in SESSION_KINDS}
