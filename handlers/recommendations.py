"""Recommendation handlers: /recommend, /feedback, the stance and comment
buttons, and how a recommendation looks in a message.

- `/recommend` (coordination): one line `/recommend <group|all|g1,g2> <text>
  [| <date> [<HH:MM>]]`; without arguments the bot offers the groups and
  "Alle Gruppen" as buttons, then asks for the text; `/recommend <group>`
  alone asks for the text.
- `/feedback` (members): without arguments, one header line and one card
  per recommendation still waiting for the member's answer (at most 10);
  `/feedback <id>` the card again, with the buttons while answers are
  possible; `/feedback <id> <text>` a comment. For a coordinator,
  `/feedback` lists the open recommendations with their tallies and a
  button to open each; `/feedback <id>` shows the feedback (tally, how many
  have not answered, the newest comments) with "Abschließen".
- A stance button saves the stance, answers with a short notice and marks
  the chosen button ("✓ Bedenken"); "Kommentar" asks for the comment;
  "Abschließen" asks for the outcome note.
- Every message stays within Telegram's 4096 characters: the full text
  (at most 3000) only where it is the message's subject; elsewhere texts,
  comments and group lists are shortened, and the number of comments shown
  is capped.

Dates inside refusals come from the core as datetimes and are written here
in the reader's language (`_dates_for_reader`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import people
from bot.core import recommendations as core
from bot.core.commands import by_name
from bot.core.dates import format_date, format_when
from bot.core.errors import Refusal
from bot.core.reminders import Due
from bot.render.texts import Html, Texts, escape
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.outbox import Batch, Message, Part, Renderer
from handlers.registration import TextAnswer
from storage.models import (
    COMMENT_MAX,
    OUTCOME_MAX,
    RECOMMENDATION_KINDS,
    RECOMMENDATION_TEXT_MAX,
    DeliveryKind,
    Group,
    Recommendation,
    RecommendationStatus,
    StanceValue,
)
from storage.uow import UnitOfWork

GROUPS_SHOWN = 6
"""Group names listed in one message; more are counted ("und 2 weitere")."""
TEXT_IN_OUTCOME = 1000
TEXT_IN_OVERVIEW = 500
OUTCOME_IN_OVERVIEW = 800
TEXT_IN_LIST = 100
COMMENT_IN_OVERVIEW = 150
"""Lengths (as Telegram counts them) of texts shown where they are not the subject."""


# --- how things look ---------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 code units, with "…" when cut."""
    if core.telegram_length(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit - 1:
            break
        kept.append(char)
        used += width
    return "".join(kept).rstrip() + "…"


def one_line(text: str, limit: int) -> str:
    return shorten(" ".join(text.split()), limit)


def group_names(texts: Texts, lang: str, groups: Sequence[Group]) -> str:
    names = ", ".join(g.name for g in groups[:GROUPS_SHOWN])
    if len(groups) > GROUPS_SHOWN:
        names += " " + texts.plain(lang, "recommendations.more_groups", count=len(groups) - GROUPS_SHOWN)
    return names


def deadline_words(texts: Texts, lang: str, deadline: datetime, tz: ZoneInfo, now: datetime) -> str:
    """`Di., 15.12.2026, 23:59 Uhr`, with "heute" or "morgen" in front when it is that close."""
    when = format_when(deadline, tz, lang)
    day, today = deadline.astimezone(tz).date(), now.astimezone(tz).date()
    if day == today:
        return texts.plain(lang, "recommendations.today", when=when)
    if day == today + timedelta(days=1):
        return texts.plain(lang, "recommendations.tomorrow", when=when)
    return when


def stance_name(texts: Texts, lang: str, value: StanceValue) -> str:
    return texts.plain(lang, f"recommendations.stance_{value.value}")


def stance_rows(texts: Texts, lang: str, recommendation_id: int, current: StanceValue | None) -> Rows:
    """Zustimmung / Bedenken / Ablehnung (the chosen one marked ✓), then Kommentar."""

    def label(value: StanceValue) -> str:
        name = stance_name(texts, lang, value)
        return texts.plain(lang, "recommendations.chosen", stance=name) if value is current else name

    return [
        [(label(value), p.GiveStance(recommendation_id, value.value)) for value in StanceValue],
        [(texts.plain(lang, "recommendations.comment_button"), p.WriteComment(recommendation_id))],
    ]


def tally_line(texts: Texts, lang: str, tally: Counter[StanceValue]) -> Html:
    return texts.get(
        lang,
        "recommendations.tally",
        agree=tally[StanceValue.AGREE],
        concerns=tally[StanceValue.CONCERNS],
        reject=tally[StanceValue.REJECT],
    )


def card(
    texts: Texts, lang: str, recommendation: Recommendation, tz: ZoneInfo, now: datetime, header: Html
) -> Html:
    """Header, target groups, the full text, the deadline."""
    lines = [
        header,
        texts.get(lang, "recommendations.card_groups", groups=group_names(texts, lang, recommendation.groups)),
        "",
        escape(recommendation.text),
        "",
    ]
    if recommendation.deadline is not None:
        when = deadline_words(texts, lang, recommendation.deadline, tz, now)
        lines.append(texts.get(lang, "recommendations.card_deadline", when=when))
    else:
        lines.append(texts.get(lang, "recommendations.card_no_deadline"))
    return Html("\n".join(lines))


def answerable_card(
    texts: Texts, lang: str, recommendation: Recommendation, tz: ZoneInfo, now: datetime, header: Html
) -> Html:
    text = card(texts, lang, recommendation, tz, now, header)
    return Html(text + "\n\n" + texts.get(lang, "recommendations.card_how", id=recommendation.id))


def outcome_message(
    texts: Texts, lang: str, recommendation: Recommendation, tally: Counter[StanceValue], comments: int
) -> Html:
    """The outcome for everyone who answered: the text (shortened), the note, the final tally."""
    final = texts.get(
        lang, "recommendations.final_tally", tally=tally_line(texts, lang, tally), comments=comments
    )
    return Html(
        "\n".join(
            [
                texts.get(lang, "recommendations.outcome_title", id=recommendation.id),
                "",
                texts.get(lang, "recommendations.recommendation_label"),
                escape(shorten(recommendation.text, TEXT_IN_OUTCOME)),
                "",
                texts.get(lang, "recommendations.outcome_label"),
                escape(recommendation.outcome or ""),
                "",
                final,
            ]
        )
    )


def overview_message(texts: Texts, lang: str, view: core.Overview, tz: ZoneInfo, now: datetime) -> Html:
    """The coordination's view of one recommendation's feedback."""
    recommendation = view.recommendation
    closed = recommendation.status is RecommendationStatus.CLOSED
    key = "recommendations.overview_closed" if closed else "recommendations.overview_open"
    lines: list[str] = [
        texts.get(lang, key, id=recommendation.id),
        texts.get(lang, "recommendations.card_groups", groups=group_names(texts, lang, recommendation.groups)),
    ]
    if recommendation.deadline is not None:
        when = deadline_words(texts, lang, recommendation.deadline, tz, now)
        lines.append(texts.get(lang, "recommendations.card_deadline", when=when))
    lines += ["", escape(shorten(recommendation.text, TEXT_IN_OVERVIEW)), ""]
    if closed and recommendation.closed_at is not None:
        lines.append(texts.get(lang, "recommendations.card_closed", when=format_when(recommendation.closed_at, tz, lang)))
        lines.append(texts.get(lang, "recommendations.outcome_label"))
        lines.append(escape(shorten(recommendation.outcome or "", OUTCOME_IN_OVERVIEW)))
        lines.append("")
    lines.append(tally_line(texts, lang, view.tally))
    lines.append(texts.get(lang, "recommendations.missing", missing=view.missing, members=view.members))
    lines.append("")
    if not view.latest:
        lines.append(texts.get(lang, "recommendations.no_comments"))
    else:
        lines.append(texts.get(lang, "recommendations.comments_title", count=view.comments))
        for comment, author in view.latest:
            name = (
                people.name_of(author)
                if author is not None and author.telegram_id is not None
                else texts.plain(lang, "recommendations.former_member")
            )
            lines.append(
                texts.get(
                    lang,
                    "recommendations.comment_line",
                    name=name,
                    date=format_date(comment.created_at.astimezone(tz).date(), lang),
                    text=one_line(comment.text, COMMENT_IN_OVERVIEW),
                )
            )
    return Html("\n".join(lines))


def _tz(request: Request) -> ZoneInfo:
    return request.settings.timezone


# --- messages owed by the delivery timer ---------------------------------------


@dataclass
class _Facts:
    """What every message of one batch about one recommendation shares."""

    recommendation: Recommendation
    stances: dict[int, StanceValue]
    tally: Counter[StanceValue] | None = None
    comments: int = 0


async def _facts(uow: UnitOfWork, recommendation_id: int, kind: DeliveryKind, batch: Batch) -> _Facts:
    """Loaded once per recommendation and run of the timer (a fan-out renders hundreds)."""

    async def load() -> _Facts:
        recommendation = await uow.recommendations.get(recommendation_id)
        assert recommendation is not None, "screened by bot.core.recommendations.screen_due"
        return _Facts(recommendation, await uow.recommendations.stances_by_person(recommendation_id))

    facts = await batch.memo(("recommendation", recommendation_id), load)
    if kind is DeliveryKind.OUTCOME and facts.tally is None:
        facts.tally = (await uow.recommendations.tallies([recommendation_id]))[recommendation_id]
        facts.comments = (await uow.recommendations.comment_counts([recommendation_id]))[recommendation_id]
    return facts


async def render_delivery(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """A recommendation, the reminder before its deadline, or its outcome, for one member."""
    assert item.recommendation_id is not None
    texts, tz, now = runtime.texts, runtime.settings.timezone, runtime.clock()
    facts = await _facts(uow, item.recommendation_id, item.kind, batch)
    recommendation = facts.recommendation
    if item.kind is DeliveryKind.OUTCOME:
        assert facts.tally is not None
        return [Message(outcome_message(texts, lang, recommendation, facts.tally, facts.comments))]
    key = "recommendations.card_new" if item.kind is DeliveryKind.RECOMMENDATION else "recommendations.card_reminder"
    header = texts.get(lang, key, id=recommendation.id)
    text = answerable_card(texts, lang, recommendation, tz, now, header)
    return [Message(text, stance_rows(texts, lang, recommendation.id, facts.stances.get(item.person_id)))]


# --- handlers ------------------------------------------------------------------------


def _dates_for_reader(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Datetimes in a refusal's parameters written in the reader's language and time zone."""

    @functools.wraps(handler)
    async def wrapper(request: Request, *args: object) -> None:
        try:
            await handler(request, *args)
        except Refusal as refusal:
            refusal.params = {
                name: format_when(value, _tz(request), request.lang) if isinstance(value, datetime) else value
                for name, value in refusal.params.items()
            }
            raise

    return wrapper


def _arguments(request: Request, parts: int) -> list[str]:
    """The command's words, the last one the rest of the message as written (lines kept)."""
    message = request.update.effective_message
    words = (message.text or "").split(maxsplit=parts) if message is not None else []
    return words[1:]


@action
@_dates_for_reader
async def recommend_command(request: Request) -> None:
    """`/recommend <group|all|g1,g2> <text> [| <date> [<HH:MM>]]`; guided without arguments."""
    args = _arguments(request, 1)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        people.require_coordinator(me, request.settings)
        if not args:
            groups = await uow.groups.active()
        else:
            result = await core.recommend(uow, me, args[0], request.settings, request.now())
    if not args:
        rows = [[(g.name, p.RecommendTo(g.id))] for g in groups]
        rows.append([(request.label("recommendations.all_groups_button"), p.RecommendTo(0))])
        await request.reply(request.t("recommendations.choose_target"), rows)
    elif isinstance(result, core.TextWanted):
        await _ask_for_text(request, result.targets)
    else:
        await _confirm_published(request, result)


async def _ask_for_text(request: Request, targets: core.Targets) -> None:
    texts = request.runtime.texts
    groups = (
        request.label("recommendations.all_groups")
        if targets.everyone
        else group_names(texts, request.lang, targets.groups)
    )
    await request.reply(request.t("recommendations.ask_text", groups=groups, max=RECOMMENDATION_TEXT_MAX))


@_dates_for_reader
async def target_pressed(request: Request) -> None:
    """Guided /recommend: the target was chosen; ask for the text."""
    assert isinstance(request.payload, p.RecommendTo)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        targets = await core.start_guided(uow, me, request.payload.group_id, request.settings)
    await request.answer()
    await request.edit(rows=())
    await _ask_for_text(request, targets)


@_dates_for_reader
async def guided_text(request: Request, text: str) -> None:
    """The text (and optional deadline) of a guided /recommend."""
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        published = await core.submit_guided(uow, me, text, request.settings, request.now())
    await _confirm_published(request, published)


async def _confirm_published(request: Request, published: core.Published) -> None:
    recommendation = published.recommendation
    texts = request.runtime.texts
    if recommendation.deadline is not None:
        deadline = request.t(
            "recommendations.published_deadline",
            when=format_when(recommendation.deadline, _tz(request), request.lang),
        )
    else:
        deadline = request.t("recommendations.published_no_deadline")
    await request.reply(
        request.t(
            "recommendations.published",
            id=recommendation.id,
            groups=group_names(texts, request.lang, recommendation.groups),
            count=published.recipients,
            deadline=deadline,
        )
    )
    request.wake_deliveries()


@action
@_dates_for_reader
async def feedback_command(request: Request) -> None:
    """`/feedback`, `/feedback <id>`, `/feedback <id> <text>`."""
    args = _arguments(request, 2)
    now = request.now()
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, now)
        coordinator = people.is_coordinator(me, request.settings)
        if not args:
            if coordinator:
                listing = await core.open_overviews(uow, me, request.settings)
            else:
                waiting = await core.waiting_for(uow, me, now)
        else:
            recommendation_id = core.parse_id(args[0])
            if len(args) > 1:
                commented = await core.add_comment(uow, me, recommendation_id, args[1], now)
            elif coordinator:
                view = await core.overview(uow, me, recommendation_id, request.settings)
            else:
                member = await core.member_view(uow, me, recommendation_id, now)
    if not args:
        if coordinator:
            await _show_open_list(request, listing)
        else:
            await _show_waiting(request, waiting)
    elif len(args) > 1:
        await _confirm_comment(request, commented)
    elif coordinator:
        await _show_overview(request, view)
    else:
        await _show_member_view(request, member)


async def _show_waiting(request: Request, waiting: core.Waiting) -> None:
    if not waiting.recommendations:
        await request.reply(request.t("recommendations.waiting_none"))
        return
    texts, tz, now = request.runtime.texts, _tz(request), request.now()
    await request.reply(request.t("recommendations.waiting_title", count=waiting.total))
    for recommendation in waiting.recommendations:
        header = texts.get(request.lang, "recommendations.card_title", id=recommendation.id)
        await request.reply(
            answerable_card(texts, request.lang, recommendation, tz, now, header),
            stance_rows(texts, request.lang, recommendation.id, None),
        )
    if waiting.total > len(waiting.recommendations):
        await request.reply(
            request.t("recommendations.waiting_more", count=waiting.total - len(waiting.recommendations))
        )


async def _show_member_view(request: Request, view: core.MemberView) -> None:
    texts, tz, now, lang = request.runtime.texts, _tz(request), request.now(), request.lang
    recommendation = view.recommendation
    header = texts.get(lang, "recommendations.card_title", id=recommendation.id)
    text: str = card(texts, lang, recommendation, tz, now, header)
    mine = []
    if view.stance is not None:
        mine.append(request.t("recommendations.your_stance", stance=stance_name(texts, lang, view.stance)))
    if view.comments:
        mine.append(request.t("recommendations.your_comments", count=view.comments))
    if mine:
        text += "\n" + "\n".join(mine)
    if view.answerable:
        text += "\n\n" + request.t("recommendations.card_how", id=recommendation.id)
        await request.reply(text, stance_rows(texts, lang, recommendation.id, view.stance))
        return
    if recommendation.status is RecommendationStatus.CLOSED:
        closed_at = recommendation.closed_at or now
        text += "\n\n" + request.t("recommendations.card_closed", when=format_when(closed_at, tz, lang))
        text += "\n" + request.t("recommendations.outcome_label") + "\n"
        text += escape(shorten(recommendation.outcome or "", OUTCOME_IN_OVERVIEW))
    elif recommendation.deadline is not None:
        text += "\n\n" + request.t("recommendations.card_ended", when=format_when(recommendation.deadline, tz, lang))
    await request.reply(text)


async def _show_overview(request: Request, view: core.Overview) -> None:
    text = overview_message(request.runtime.texts, request.lang, view, _tz(request), request.now())
    rows: Rows = []
    if view.recommendation.status is RecommendationStatus.OPEN:
        rows = [[(request.label("recommendations.close_button"), p.CloseRecommendation(view.recommendation.id))]]
    await request.reply(text, rows)


async def _show_open_list(request: Request, listing: core.OpenList) -> None:
    if not listing.overviews:
        await request.reply(request.t("recommendations.list_none"))
        return
    texts, tz, now, lang = request.runtime.texts, _tz(request), request.now(), request.lang
    lines: list[str] = [request.t("recommendations.list_title", count=listing.total)]
    for view in listing.overviews:
        recommendation = view.recommendation
        if recommendation.deadline is not None:
            deadline = texts.plain(
                lang, "recommendations.card_deadline", when=deadline_words(texts, lang, recommendation.deadline, tz, now)
            )
        else:
            deadline = texts.plain(lang, "recommendations.list_no_deadline")
        lines.append("")
        lines.append(
            request.t(
                "recommendations.list_entry",
                id=recommendation.id,
                deadline=deadline,
                text=one_line(recommendation.text, TEXT_IN_LIST),
                tally=tally_line(texts, lang, view.tally),
                missing=view.missing,
            )
        )
    if listing.total > len(listing.overviews):
        lines.append("")
        lines.append(request.t("recommendations.list_more", count=listing.total - len(listing.overviews)))
    buttons = [
        (request.label("recommendations.open_button", id=view.recommendation.id), p.OpenRecommendation(view.recommendation.id))
        for view in listing.overviews
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await request.reply(Html("\n".join(lines)), rows)


@_dates_for_reader
async def stance_pressed(request: Request) -> None:
    """Zustimmung / Bedenken / Ablehnung: save, say so briefly, mark the chosen button."""
    assert isinstance(request.payload, p.GiveStance)
    now = request.now()
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, now)
        given = await core.give_stance(uow, me, request.payload.recommendation_id, request.payload.stance, now)
    texts, lang = request.runtime.texts, request.lang
    stance = stance_name(texts, lang, given.value)
    deadline = given.recommendation.deadline
    if not given.changed:
        notice = request.label("recommendations.saved_same", stance=stance)
    elif deadline is not None:
        notice = request.label("recommendations.saved_until", stance=stance, when=format_when(deadline, _tz(request), lang))
    else:
        notice = request.label("recommendations.saved_open", stance=stance)
    await request.answer(notice)
    await request.edit(rows=stance_rows(texts, lang, given.recommendation.id, given.value))


@_dates_for_reader
async def comment_pressed(request: Request) -> None:
    """Kommentar: ask for the comment; the next text is saved."""
    assert isinstance(request.payload, p.WriteComment)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        recommendation = await core.start_comment(uow, me, request.payload.recommendation_id, request.now())
    await request.answer()
    await request.reply(request.t("recommendations.ask_comment", id=recommendation.id, max=COMMENT_MAX))


@_dates_for_reader
async def comment_text(request: Request, text: str) -> None:
    """The comment after the Kommentar button."""
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        commented = await core.submit_comment(uow, me, text, request.now())
    await _confirm_comment(request, commented)


async def _confirm_comment(request: Request, commented: core.Commented) -> None:
    recommendation_id = commented.recommendation.id
    text = request.t("recommendations.comment_saved", id=recommendation_id)
    if commented.stance is not None:
        await request.reply(text)
        return
    await request.reply(
        text + "\n\n" + request.t("recommendations.comment_no_stance"),
        stance_rows(request.runtime.texts, request.lang, recommendation_id, None),
    )


@_dates_for_reader
async def open_pressed(request: Request) -> None:
    """A recommendation in the coordinator's list: its feedback."""
    assert isinstance(request.payload, p.OpenRecommendation)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        view = await core.overview(uow, me, request.payload.recommendation_id, request.settings)
    await request.answer()
    await _show_overview(request, view)


@_dates_for_reader
async def close_pressed(request: Request) -> None:
    """Abschließen: ask for the outcome note."""
    assert isinstance(request.payload, p.CloseRecommendation)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        recommendation = await core.start_close(uow, me, request.payload.recommendation_id, request.settings)
    await request.answer()
    await request.reply(request.t("recommendations.ask_outcome", id=recommendation.id, max=OUTCOME_MAX))


@_dates_for_reader
async def outcome_text(request: Request, text: str) -> None:
    """The outcome note: close, and tell everyone who answered."""
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        closed = await core.close(uow, me, text, request.settings, request.now())
    await request.reply(request.t("recommendations.closed_done", id=closed.recommendation.id, count=closed.told))
    request.wake_deliveries()


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {"recommend": recommend_command, "feedback": feedback_command}
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]
        for name, callback in table.items()
    ]


TEXT_ANSWERS: dict[str, TextAnswer] = {
    core.AWAIT_TEXT: guided_text,
    core.AWAIT_COMMENT: comment_text,
    core.AWAIT_OUTCOME: outcome_text,
}

CALLBACKS: dict[type, Handler] = {
    p.RecommendTo: target_pressed,
    p.GiveStance: stance_pressed,
    p.WriteComment: comment_pressed,
    p.OpenRecommendation: open_pressed,
    p.CloseRecommendation: close_pressed,
}


RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_delivery for kind in RECOMMENDATION_KINDS}
