"""Meeting handlers: /meetings, the RSVP and calendar buttons, and how a session
looks in a message. The coordinator's /meeting, /reschedule and /cancel live in
handlers/sessions.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import agenda, meetings, people, reminders, session_views
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.recurrence import from_rrule
from bot.core.reminders import Due
from bot.render.ics import session_file
from bot.render.recurrence import describe
from bot.render.texts import Html, Texts
from bot.render.units import LIMIT, one_line, visible_length
from handlers import agenda_messages, attendance
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


def answer_buttons(
    texts: Texts, lang: str, occurrence_id: int, chosen: RsvpAnswer | None = None, *, card: bool = False
) -> Rows:
    """Zusage / Absage / Vielleicht (the `chosen` one marked ✓) and the calendar file;
    on a /meetings card (`card`) an answer redraws the card."""
    kind = p.CardAnswer if card else p.Answer
    return [
        [
            (
                texts.plain(lang, f"meetings.{name}_{'chosen' if value is chosen else 'button'}"),
                kind(occurrence_id, name),
            )
            for name, value in ANSWERS.items()
        ],
        [(texts.plain(lang, "meetings.calendar_button"), p.CalendarFile(occurrence_id))],
    ]


def session_text(texts: Texts, lang: str, item: meetings.Upcoming, coordinator: bool) -> Html:
    """A session's card from /meetings: the card, the person's answer, for the
    coordination the counts."""
    text = session_card(texts, lang, item.occurrence) + "\n\n"
    if item.answer is None:
        text += texts.get(lang, "meetings.your_answer_none")
    else:
        text += texts.get(lang, "meetings.your_answer", answer=texts.get(lang, f"meetings.answer_{item.answer.value}"))
    if coordinator:
        text += "\n" + counts_line(texts, lang, item.counts)
    return Html(text)


TITLE_LIMITS = (80, 40, 24, 12)
"""How long a title may be in the /meetings list: shorter when a long list needs it."""
LIST_ROOM = LIMIT - 500
"""What the sessions of the /meetings list may take of one message (the rest: heading and hints)."""


def _fitting(texts: Texts, lang: str, sessions: list[meetings.Upcoming], coordinator: bool) -> list[tuple[Html, str]]:
    """The list's entries, titles cut shorter until they fit into one message (and,
    should even that not do, as many as fit: the rest is said to follow)."""
    separator = "\n\n" if coordinator else "\n"
    shown: list[tuple[Html, str]] = []
    for title_limit in TITLE_LIMITS:
        shown = [list_entry(texts, lang, item, coordinator, title_limit) for item in sessions]
        if visible_length(separator.join(text for text, _ in shown)) <= LIST_ROOM:
            return shown
    while len(shown) > 1 and visible_length(separator.join(text for text, _ in shown)) > LIST_ROOM:
        shown.pop()
    return shown


MARKS: dict[RsvpAnswer | None, str] = {
    None: "meetings.mark_none",
    RsvpAnswer.YES: "meetings.mark_yes",
    RsvpAnswer.NO: "meetings.mark_no",
    RsvpAnswer.MAYBE: "meetings.mark_maybe",
}


def list_entry(
    texts: Texts, lang: str, item: meetings.Upcoming, coordinator: bool, title_limit: int = 80
) -> tuple[Html, str]:
    """One session in the /meetings list: its lines, and its button's label."""
    occurrence, meeting = item.occurrence, item.occurrence.meeting
    tz = ZoneInfo(meeting.timezone)
    mark = texts.plain(lang, MARKS[item.answer])
    text = texts.get(
        lang,
        "meetings.list_entry",
        mark=mark,
        id=occurrence.id,
        when=format_when(occurrence.starts_at, tz, lang),
        group=meeting.group.name,
        title=one_line(meeting.title, title_limit),
    )
    if coordinator:
        text = Html(text + "\n" + counts_line(texts, lang, item.counts))
    local = occurrence.starts_at.astimezone(tz)
    label = texts.plain(
        lang, "meetings.list_button", mark=mark, id=occurrence.id, day=f"{local:%d.%m. %H:%M}", title=meeting.title
    )
    return text, one_line(label, 60)


def counts_line(texts: Texts, lang: str, counts: Counter[RsvpAnswer]) -> Html:
    return texts.get(
        lang,
        "meetings.counts",
        yes=counts[RsvpAnswer.YES],
        no=counts[RsvpAnswer.NO],
        maybe=counts[RsvpAnswer.MAYBE],
    )


@action
async def list_meetings(request: Request) -> None:
    """`/meetings [group|all]`: one message, a line and a button per session."""
    uow, me = await request.uow(), await request.person()
    found = await session_views.listing(uow, me, " ".join(request.args), request.settings, request.now())
    if not found.sessions:
        await request.reply(request.t("meetings.none"))
        return
    texts, coordinator = request.runtime.texts, people.is_coordinator(me, request.settings)
    if found.group is not None:
        lines = [request.t("meetings.list_group", group=found.group.name)]
    else:
        lines = [request.t("meetings.list_all" if coordinator else "meetings.list_mine")]
    shown = _fitting(texts, request.lang, found.sessions, coordinator)
    lines.append(Html(("\n\n" if coordinator else "\n").join(text for text, _ in shown)))
    rows = [
        [(label, p.OpenSession(item.occurrence.id))] for item, (_, label) in zip(found.sessions, shown, strict=False)
    ]
    if found.more or len(shown) < len(found.sessions):
        long = found.long is not None or len(shown) < len(found.sessions)
        lines.append(request.t("meetings.list_more", count=len(shown)) if long else request.t("meetings.list_more_all"))
    lines.append(request.t("meetings.list_hint"))
    await request.reply("\n\n".join(lines), rows)


async def session_pressed(request: Request) -> None:
    """A session in the /meetings list: its card with the answer and calendar buttons."""
    assert isinstance(request.payload, p.OpenSession)
    me = await request.person()
    view = await session_views.session_view(await request.uow(), me, request.payload.occurrence_id, request.settings)
    await request.reply(*_card(request, view.item, people.is_coordinator(me, request.settings), view.may_answer))


def _card(request: Request, item: meetings.Upcoming, coordinator: bool, may_answer: bool = True) -> tuple[Html, Rows]:
    """A session's card; without the answer buttons for a coordinator outside its group."""
    texts, lang = request.runtime.texts, request.lang
    rows = answer_buttons(texts, lang, item.occurrence.id, item.answer, card=True)
    if not may_answer:
        return Html(session_card(texts, lang, item.occurrence) + "\n\n" + counts_line(texts, lang, item.counts)), rows[
            1:
        ]
    return session_text(texts, lang, item, coordinator), rows


async def _save_answer(request: Request, occurrence_id: int, answer: str) -> meetings.Upcoming:
    value = ANSWERS.get(answer)
    if value is None:
        raise Refusal("buttons.stale")
    uow, me = await request.uow(), await request.person()
    saved = await meetings.answer(uow, me, occurrence_id, value, request.settings, request.now())
    await request.answer(request.label("meetings.answer_saved", answer=request.label(f"meetings.answer_{value.value}")))
    return saved


async def answer_pressed(request: Request) -> None:
    """Zusage / Absage / Vielleicht under an invitation or reminder: saved, the
    chosen button marked on that message, and its closing line saying the answer."""
    assert isinstance(request.payload, p.Answer)
    saved = await _save_answer(request, request.payload.occurrence_id, request.payload.answer)
    assert saved.answer is not None
    rows = answer_buttons(request.runtime.texts, request.lang, saved.occurrence.id, saved.answer)
    await request.edit(_with_answer_line(request, saved.answer), [*rows, *attendance.kept_check_in(request)])


ANSWER_LINES = ("reminders.question", *(f"reminders.answered_{name}" for name in ANSWERS))
"""The closing lines of a message about a session (`render_session`)."""


def with_closing_line(request: Request, known: Iterable[str], line: Html) -> Html | None:
    """The pressed message's text with its closing line, one of `known` ("Kommen
    Sie?", "Sie haben zugesagt", or a deputy's copy's "Ana hat zugesagt"), replaced
    by `line`; None (only the buttons change) when the message does not end so
    (an older wording, another language)."""
    query = request.update.callback_query
    current = getattr(query.message, "text_html", None) if query is not None and query.message else None
    if not isinstance(current, str):
        return None
    head, separator, last = current.rpartition("\n\n")
    if not separator or last not in set(known):
        return None
    return Html(head + "\n\n" + line)


def _with_answer_line(request: Request, answer: RsvpAnswer) -> Html | None:
    """The pressed message's text saying the member's new answer at its end."""
    known = {request.t(key) for key in ANSWER_LINES}
    return with_closing_line(request, known, request.t(f"reminders.answered_{answer.value}"))


async def card_answer_pressed(request: Request) -> None:
    """Zusage / Absage / Vielleicht on a /meetings card: saved, the card redrawn."""
    assert isinstance(request.payload, p.CardAnswer)
    saved = await _save_answer(request, request.payload.occurrence_id, request.payload.answer)
    me = await request.person()
    await request.edit(*_card(request, saved, people.is_coordinator(me, request.settings)))


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
        "meetings": list_meetings,
    }
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]  # every name listed here is in the command table
        for name, callback in table.items()
    ]


CALLBACKS = {
    p.Answer: answer_pressed,
    p.CardAnswer: card_answer_pressed,
    p.OpenSession: session_pressed,
    p.CalendarFile: calendar_pressed,
}


async def render_session(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """An invitation, a reminder, a new time or a cancellation, for one member: the
    session's card, its agenda, what the member answered so far ("Sie haben
    zugesagt") or the question, and the answer buttons (the chosen one marked)."""
    texts = runtime.texts
    occurrence_id = item.occurrence_id
    assert occurrence_id is not None
    occurrence = await batch.memo(("occurrence", occurrence_id), lambda: meetings.find_occurrence(uow, occurrence_id))
    assert occurrence is not None
    card = session_card(texts, lang, occurrence)
    if item.kind is DeliveryKind.CANCELLED:
        reason, group = occurrence.cancel_reason, occurrence.meeting.group
        if reason:
            why = "\n" + texts.get(lang, "sessions.reason_line", reason=reason)
        elif group.archived_at is not None:  # cancelled by /archivegroup: said in the reader's language
            why = "\n" + texts.get(lang, "admin.archive_reason", name=group.name)
        else:
            why = ""
        return [Message(Html(texts.get(lang, "reminders.cancelled") + why + "\n\n" + card))]
    header = {
        DeliveryKind.INVITATION: "reminders.invitation",
        DeliveryKind.MOVED: "reminders.moved",
        DeliveryKind.REMINDER: "reminders.reminder",
    }[item.kind]
    text = texts.get(lang, header) + "\n\n" + card
    items = await batch.memo(("agenda", occurrence_id), lambda: agenda.items_on(uow, occurrence_id))
    open_tasks = await agenda_messages.open_tasks_of(runtime, uow, batch, occurrence.meeting.group_id)
    text += "\n\n" + agenda_messages.agenda_block(texts, lang, items, open_tasks)
    if reminders.calls_for_topics(item, runtime.settings):
        text += "\n\n" + texts.get(lang, "reminders.call_for_agenda", slug=occurrence.meeting.group.slug)
    answers = await batch.memo(("answers", occurrence_id), lambda: session_views.answers_to(uow, occurrence_id))
    own = answers.get(item.person_id)
    text += "\n\n" + texts.get(lang, "reminders.question" if own is None else f"reminders.answered_{own.value}")
    rows = [
        *answer_buttons(texts, lang, occurrence.id, own),
        *attendance.check_in_rows(runtime, item, occurrence, lang),
    ]
    return [Message(Html(text), rows)]


RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_session for kind in SESSION_KINDS}
