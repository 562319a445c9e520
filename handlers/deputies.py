"""Deputy handlers (SPEC 13): /deputy (alias /vertretung), its buttons, and the
deputy's copy of a member's message.

- `/deputy <user> [until|bis <date>]`: the named person is asked with
  "Annehmen" / "Ablehnen"; the member is told it waits for the answer, and
  told the answer. `/deputy off` ends it (both told); `/deputy` alone shows
  the state, with "Beenden" and an example. The rules are in `bot.core.deputies`.
- The copy (`copy_renderer`, composed in `bot.telegram.app` from the other
  renderers): the member's message rendered as the member gets it (their own
  answer shown), under "In Vertretung für <Name> (<Organisation>)"; its RSVP,
  stance and calendar buttons act for the member (`AnswerFor`, `StanceFor`,
  `CalendarFor`); the comment button is left out (a comment is the member's
  own words); other buttons are kept.
- A deputy's answer is saved as the member's; the member is told who answered
  what, and the deputy's message shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import deputies as core
from bot.core import meetings as meeting_rules
from bot.core import session_views
from bot.core.commands import by_name
from bot.core.dates import format_date, format_when
from bot.core.errors import Refusal
from bot.core.people import name_of
from bot.core.reminders import Due
from bot.render.ics import session_file
from bot.render.texts import Html, Texts
from handlers import followup_payloads as fp
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.meetings import ANSWER_LINES, answer_buttons, with_closing_line
from handlers.outbox import Batch, Message, Part, Renderer
from handlers.recommendation_messages import stance_name, stance_rows
from storage.followup_models import Deputy
from storage.models import SESSION_KINDS, DeliveryKind, Person, RsvpAnswer, StanceValue
from storage.uow import UnitOfWork

RSVP_CODES = tuple(value.value for value in RsvpAnswer)
"""The answers of `AnswerFor` by number (yes, no, maybe)."""
STANCE_CODES = tuple(value.value for value in StanceValue)
"""The stances of `StanceFor` by number (agree, concerns, reject)."""


def _code(codes: tuple[str, ...], number: int) -> str:
    if number >= len(codes):
        raise Refusal("buttons.stale")
    return codes[number]


# --- words ---------------------------------------------------------------------------


def who(texts: Texts, lang: str, person: Person) -> str:
    """`Maria Schmidt (Caritas)`, or the name alone."""
    name, organisation = core.named(person)
    if organisation:
        return texts.plain(lang, "deputies.person_with_organisation", name=name, organisation=organisation)
    return name


def until_words(texts: Texts, lang: str, row: Deputy) -> str:
    if row.until is None:
        return texts.plain(lang, "deputies.until_open")
    return texts.plain(lang, "deputies.until_date", date=format_date(row.until, lang))


def _t(texts: Texts, lang: str, key: str, row: Deputy, **params: object) -> Html:
    """A text about one deputyship: `{member}`, `{deputy}` and `{until}` filled in."""
    return texts.get(
        lang,
        key,
        member=who(texts, lang, row.member),
        deputy=who(texts, lang, row.deputy),
        until=until_words(texts, lang, row),
        **params,
    )


async def _tell(request: Request, person: Person, key: str, row: Deputy, rows: Rows = ()) -> None:
    """A message to the other person of a deputyship, in their language."""
    if person.telegram_id is None:
        return
    lang = await request.language_of(person.telegram_id)
    await request.notify(person.telegram_id, _t(request.runtime.texts, lang, key, row), rows)


def _request_rows(texts: Texts, lang: str, row: Deputy) -> Rows:
    return [
        [
            (texts.plain(lang, "deputies.accept_button"), fp.DecideDeputy(row.id, True)),
            (texts.plain(lang, "deputies.decline_button"), fp.DecideDeputy(row.id, False)),
        ]
    ]


# --- /deputy ----------------------------------------------------------------------------


@action
async def deputy_command(request: Request) -> None:
    """`/deputy`, `/deputy <user> [until <date>]`, `/deputy off`."""
    uow, me, now = await request.uow(), await request.person(), request.now()
    words = request.args
    if not words:
        await _show_state(request, await core.state(uow, me, request.settings, now))
        return
    if len(words) == 1 and words[0].lower() in core.OFF_WORDS:
        row = await core.end_own(uow, me, request.settings, now)
        await request.reply(_t(request.runtime.texts, request.lang, "deputies.ended_member", row))
        await _tell(request, row.deputy, "deputies.told_ended_by_member", row)
        return
    named = await core.name_deputy(uow, me, " ".join(words), request.settings, now)
    row, texts = named.deputyship, request.runtime.texts
    if named.date_changed:
        await request.reply(_t(texts, request.lang, "deputies.date_changed", row))
        if row.accepted_at is not None:
            await _tell(request, row.deputy, "deputies.told_date_changed", row)
            return
    else:
        text = _t(texts, request.lang, "deputies.asked", row)
        if named.ended is not None:
            text = Html(text + "\n" + _t(texts, request.lang, "deputies.previous_ended", named.ended))
            await _tell(request, named.ended.deputy, "deputies.told_ended_by_member", named.ended)
        await request.reply(text)
    assert row.deputy.telegram_id is not None
    lang = await request.language_of(row.deputy.telegram_id)
    await request.notify(
        row.deputy.telegram_id, _t(texts, lang, "deputies.request", row), _request_rows(texts, lang, row)
    )


async def _show_state(request: Request, state: core.State) -> None:
    texts, lang = request.runtime.texts, request.lang
    lines: list[str] = []
    rows: list[list[tuple[str, p.Payload]]] = []
    own = state.own
    if own is None:
        lines.append(request.t("deputies.state_none"))
    else:
        if own.accepted_at is not None:
            day = format_date(own.accepted_at.astimezone(request.settings.timezone).date(), lang)
            lines.append(_t(texts, lang, "deputies.state_own_active", own, date=day))
        else:
            lines.append(_t(texts, lang, "deputies.state_own_waiting", own))
        lines.append(request.t("deputies.state_change"))
        rows.append([(request.label("deputies.end_button"), fp.EndDeputy(own.id))])
    for row in state.standing_in:
        if row.accepted_at is not None:
            lines.append(_t(texts, lang, "deputies.state_standing_in", row))
            label = texts.plain(lang, "deputies.end_button_for", name=name_of(row.member))
            rows.append([(label, fp.EndDeputy(row.id))])
        else:
            lines.append(_t(texts, lang, "deputies.state_asked", row))
            rows.extend(list(r) for r in _request_rows(texts, lang, row))
    await request.reply(Html("\n\n".join(lines)), rows)


# --- buttons -----------------------------------------------------------------------------


async def decide_pressed(request: Request) -> None:
    """ "Annehmen" / "Ablehnen" of the person asked."""
    assert isinstance(request.payload, fp.DecideDeputy)
    accept = request.payload.accept
    row = await core.decide(
        await request.uow(),
        await request.person(),
        request.payload.deputyship_id,
        accept,
        request.settings,
        request.now(),
    )
    texts, lang = request.runtime.texts, request.lang
    await request.answer()
    await request.edit(_t(texts, lang, "deputies.accepted" if accept else "deputies.declined", row))
    await _tell(request, row.member, "deputies.told_accepted" if accept else "deputies.told_declined", row)


async def end_pressed(request: Request) -> None:
    """ "Beenden": the member or the deputy ends it; the other is told."""
    assert isinstance(request.payload, fp.EndDeputy)
    me = await request.person()
    ended = await core.end_pressed(
        await request.uow(), me, request.payload.deputyship_id, request.settings, request.now()
    )
    texts, lang, row = request.runtime.texts, request.lang, ended.deputyship
    await request.answer()
    if not ended.now:
        await request.edit(request.t("deputies.already_ended_notice"))
        return
    by_member = row.member_id == me.id
    await request.edit(_t(texts, lang, "deputies.ended_member" if by_member else "deputies.ended_deputy", row))
    if by_member:
        await _tell(request, row.deputy, "deputies.told_ended_by_member", row)
    else:
        await _tell(request, row.member, "deputies.told_ended_by_deputy", row)


def _session_words(texts: Texts, lang: str, upcoming: meeting_rules.Upcoming) -> str:
    occurrence = upcoming.occurrence
    meeting = occurrence.meeting
    when = format_when(occurrence.starts_at, ZoneInfo(meeting.timezone), lang)
    return texts.plain(lang, "deputies.session_short", title=meeting.title, group=meeting.group.name, when=when)


async def answer_for_pressed(request: Request) -> None:
    """Zusage / Absage / Vielleicht in the member's place."""
    payload = request.payload
    assert isinstance(payload, fp.AnswerFor)
    saved, row = await core.answer_for(
        await request.uow(),
        await request.person(),
        payload.occurrence_id,
        payload.member_id,
        _code(RSVP_CODES, payload.answer),
        request.settings,
        request.now(),
    )
    assert saved.answer is not None
    texts, lang = request.runtime.texts, request.lang
    answer = texts.plain(lang, f"meetings.answer_{saved.answer.value}")
    await request.answer(request.label("deputies.saved_for", member=name_of(row.member), answer=answer))
    rows = for_member(answer_buttons(texts, lang, saved.occurrence.id, saved.answer), row.member_id)
    await request.edit(_with_member_line(request, row.member, saved.answer), rows)
    if row.member.telegram_id is not None:
        member_lang = await request.language_of(row.member.telegram_id)
        text = texts.get(
            member_lang,
            "deputies.told_answer",
            deputy=who(texts, member_lang, row.deputy),
            answer=texts.plain(member_lang, f"meetings.answer_{saved.answer.value}"),
            session=_session_words(texts, member_lang, saved),
        )
        await request.notify(row.member.telegram_id, text)


def _member_lines(texts: Texts, lang: str, member: Person) -> dict[str, Html]:
    """The closing line of a copy about a session, per answer of the member ("" : none yet)."""
    name = name_of(member)
    lines = {"": texts.get(lang, "deputies.member_question", member=name)}
    for value in RsvpAnswer:
        lines[value.value] = texts.get(lang, f"deputies.member_answered_{value.value}", member=name)
    return lines


def _with_member_line(request: Request, member: Person, answer: RsvpAnswer) -> Html | None:
    """The pressed copy's text with its closing line saying the member's new answer."""
    lines = _member_lines(request.runtime.texts, request.lang, member)
    return with_closing_line(request, lines.values(), lines[answer.value])


async def stance_for_pressed(request: Request) -> None:
    """Zustimmung / Bedenken / Ablehnung in the member's place."""
    payload = request.payload
    assert isinstance(payload, fp.StanceFor)
    given, row = await core.stance_for(
        await request.uow(),
        await request.person(),
        payload.recommendation_id,
        payload.member_id,
        _code(STANCE_CODES, payload.stance),
        request.settings,
        request.now(),
    )
    texts, lang = request.runtime.texts, request.lang
    stance = stance_name(texts, lang, given.value)
    await request.answer(request.label("deputies.saved_for", member=name_of(row.member), answer=stance))
    await request.edit(rows=for_member(stance_rows(texts, lang, given.recommendation.id, given.value), row.member_id))
    if given.changed and row.member.telegram_id is not None:
        member_lang = await request.language_of(row.member.telegram_id)
        text = texts.get(
            member_lang,
            "deputies.told_stance",
            deputy=who(texts, member_lang, row.deputy),
            id=given.recommendation.id,
            stance=stance_name(texts, member_lang, given.value),
        )
        await request.notify(row.member.telegram_id, text)


async def calendar_for_pressed(request: Request) -> None:
    """The calendar file of the member's session."""
    payload = request.payload
    assert isinstance(payload, fp.CalendarFor)
    entry = await core.calendar_for(
        await request.uow(),
        await request.person(),
        payload.occurrence_id,
        payload.member_id,
        request.settings,
        request.now(),
    )
    data, name = session_file(entry)
    await request.answer()
    await request.send_document(data, name, caption=request.label("meetings.calendar_caption"))


# --- the deputy's copy ----------------------------------------------------------------


def for_member(rows: Rows, member_id: int) -> Rows:
    """The buttons of the member's message, acting for the member."""
    mapped: list[list[tuple[str, p.Payload]]] = []
    for row in rows:
        new: list[tuple[str, p.Payload]] = []
        for label, payload in row:
            if isinstance(payload, p.Answer):
                new.append((label, fp.AnswerFor(payload.occurrence_id, member_id, RSVP_CODES.index(payload.answer))))
            elif isinstance(payload, p.GiveStance):
                new.append(
                    (label, fp.StanceFor(payload.recommendation_id, member_id, STANCE_CODES.index(payload.stance)))
                )
            elif isinstance(payload, p.CalendarFile):
                new.append((label, fp.CalendarFor(payload.occurrence_id, member_id)))
            elif isinstance(payload, p.WriteComment):
                continue
            else:
                new.append((label, payload))
        if new:
            mapped.append(new)
    return mapped


def copy_renderer(renderers: Mapping[DeliveryKind, Renderer]) -> Renderer:
    """The renderer of `DEPUTY_COPY`, from the renderers of the kinds it copies."""

    async def render(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
        copied = await core.copied(uow, item.delivery_id)
        original, member = copied.original, copied.member
        as_member = Due(  # the member's message as the member gets it (their own answer shown)
            delivery_id=original.id,
            kind=original.kind,
            occurrence_id=original.occurrence_id,
            chat_id=member.telegram_id or 0,
            person_id=member.id,
            lead_seconds=original.lead_seconds,
            recommendation_id=original.recommendation_id,
            agenda_item_id=original.agenda_item_id,
            scheduled_for=original.scheduled_for,
        )
        parts = await renderers[original.kind](runtime, uow, as_member, lang, batch)
        texts = runtime.texts
        marking = texts.get(lang, "deputies.marking", member=who(texts, lang, member))
        answer_lines = {texts.get(lang, key) for key in ANSWER_LINES}
        own = None
        call_for_topics = None  # the member's own topics: the deputy does not propose for them
        if original.kind in SESSION_KINDS and original.occurrence_id is not None:
            occurrence_id = original.occurrence_id
            answers = await batch.memo(("answers", occurrence_id), lambda: session_views.answers_to(uow, occurrence_id))
            own = answers.get(member.id)
            occurrence = await batch.memo(
                ("occurrence", occurrence_id), lambda: meeting_rules.find_occurrence(uow, occurrence_id)
            )
            if occurrence is not None:
                slug = occurrence.meeting.group.slug
                call_for_topics = "\n\n" + texts.get(lang, "reminders.call_for_agenda", slug=slug)
        shown: list[Part] = []
        for index, part in enumerate(parts):
            if not isinstance(part, Message):
                shown.append(part)
                continue
            text = str(part.text)
            if original.kind in SESSION_KINDS:
                head, separator, last = text.rpartition("\n\n")
                if separator and last in answer_lines:
                    text = head + "\n\n" + _member_lines(texts, lang, member)["" if own is None else own.value]
                if call_for_topics is not None:
                    text = text.replace(call_for_topics, "")
            if original.recommendation_id is not None:  # stances for the member; comments are their own
                how = texts.get(lang, "recommendations.card_how", id=original.recommendation_id)
                text = text.replace(how, texts.get(lang, "deputies.card_how", member=name_of(member)))
            if index == 0:
                text = marking + "\n\n" + text
            shown.append(replace(part, text=Html(text), rows=for_member(part.rows, member.id)))
        return shown

    return render


def handlers() -> list[BaseHandler]:
    command = by_name("deputy")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], deputy_command, filters=filters.ChatType.PRIVATE)]


CALLBACKS: dict[type, Handler] = {
    fp.DecideDeputy: decide_pressed,
    fp.EndDeputy: end_pressed,
    fp.AnswerFor: answer_for_pressed,
    fp.StanceFor: stance_for_pressed,
    fp.CalendarFor: calendar_for_pressed,
}
