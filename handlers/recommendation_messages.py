"""How a recommendation looks in a message: the card with the stance buttons,
the coordination's overview of its feedback, and the outcome; and the
messages the delivery timer sends about it.

Every message stays within Telegram's 4096 characters: the full text (at most
3000) only where it is the message's subject; elsewhere texts, comments and
group lists are shortened (`bot.render.units`), and the number of comments
shown is capped.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import people, recommendation_deadlines, recommendation_queries
from bot.core import recommendations as core
from bot.core.dates import format_date, format_when
from bot.core.errors import Refusal
from bot.core.recommendation_views import AfterDeadline
from bot.core.reminders import Due
from bot.render.texts import Html, Texts, escape, plural
from bot.render.units import one_line, shorten
from handlers import payloads as p
from handlers.common import Request, Rows, Runtime
from handlers.outbox import Batch, Message, Part, Renderer
from storage.models import (
    RECOMMENDATION_KINDS,
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


def card(texts: Texts, lang: str, recommendation: Recommendation, tz: ZoneInfo, now: datetime, header: Html) -> Html:
    """Header, target groups, the full text, the deadline."""
    return _card(texts, lang, recommendation.groups, recommendation.text, recommendation.deadline, tz, now, header)


def _card(
    texts: Texts,
    lang: str,
    groups: Sequence[Group],
    text: str,
    deadline: datetime | None,
    tz: ZoneInfo,
    now: datetime,
    header: Html,
) -> Html:
    lines = [
        header,
        texts.get(lang, "recommendations.card_groups", groups=group_names(texts, lang, groups)),
        "",
        escape(text),
        "",
    ]
    if deadline is not None:
        lines.append(
            texts.get(lang, "recommendations.card_deadline", when=deadline_words(texts, lang, deadline, tz, now))
        )
    else:
        lines.append(texts.get(lang, "recommendations.card_no_deadline"))
    return Html("\n".join(lines))


def preview_message(texts: Texts, lang: str, prepared: core.Prepared, tz: ZoneInfo, now: datetime) -> Html:
    """The guided /recommend before "Senden": the card as members will read it, and to how many."""
    groups = (
        texts.plain(lang, "recommendations.all_groups")
        if prepared.targets.everyone
        else group_names(texts, lang, prepared.targets.groups)
    )
    body = _card(
        texts,
        lang,
        prepared.targets.groups,
        prepared.text,
        prepared.deadline,
        tz,
        now,
        texts.get(lang, "recommendations.preview_title"),
    )
    count = texts.get(
        lang, plural("recommendations.preview_count", prepared.recipients), count=prepared.recipients, groups=groups
    )
    return Html("\n\n".join([body, count, texts.get(lang, "recommendations.preview_how")]))


def preview_rows(texts: Texts, lang: str, version: int) -> Rows:
    return [
        [
            (texts.plain(lang, "recommendations.send_button"), p.RecommendationPreview("send", version)),
            (texts.plain(lang, "recommendations.cancel_button"), p.RecommendationPreview("cancel", version)),
        ]
    ]


def after_deadline_message(texts: Texts, lang: str, view: AfterDeadline, tz: ZoneInfo) -> Message:
    """To the coordinator when a deadline has passed: the state, and close / remind / extend."""
    recommendation = view.recommendation
    assert recommendation.deadline is not None
    text = texts.get(
        lang,
        "recommendations.after_deadline",
        id=recommendation.id,
        when=format_when(recommendation.deadline, tz, lang),
        text=one_line(recommendation.text, TEXT_IN_LIST),
        answered=view.answered,
        members=view.members,
        silent=view.silent,
    )
    rid = recommendation.id
    rows: list[list[tuple[str, p.Payload]]] = [
        [(texts.plain(lang, "recommendations.close_button"), p.CloseRecommendation(rid))]
    ]
    if view.silent:
        rows.append([(texts.plain(lang, "recommendations.remind_button"), p.AfterDeadline(rid, "remind"))])
    rows.append([(texts.plain(lang, "recommendations.extend_button"), p.AfterDeadline(rid, "extend"))])
    return Message(text, rows)


def answerable_card(
    texts: Texts, lang: str, recommendation: Recommendation, tz: ZoneInfo, now: datetime, header: Html
) -> Html:
    text = card(texts, lang, recommendation, tz, now, header)
    return Html(text + "\n\n" + texts.get(lang, "recommendations.card_how", id=recommendation.id))


def outcome_message(
    texts: Texts,
    lang: str,
    recommendation: Recommendation,
    tally: Counter[StanceValue],
    comments: int,
    result: str | None = None,
) -> Html:
    """The outcome for everyone who answered: the text (shortened), the steering
    circle's result (angenommen ...) where it was asked, the note, the final tally."""
    final = texts.get(lang, "recommendations.final_tally", tally=tally_line(texts, lang, tally), comments=comments)
    if result is not None:
        final = Html(texts.get(lang, "recommendations.outcome_result", result=result) + "\n" + final)
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
        lines.append(
            texts.get(lang, "recommendations.card_closed", when=format_when(recommendation.closed_at, tz, lang))
        )
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


def dates_for_reader(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Datetimes in a refusal's parameters written in the reader's language and time zone."""

    @functools.wraps(handler)
    async def wrapper(request: Request, *args: object) -> None:
        try:
            await handler(request, *args)
        except Refusal as refusal:
            refusal.params = {
                name: format_when(value, request.settings.timezone, request.lang)
                if isinstance(value, datetime)
                else value
                for name, value in refusal.params.items()
            }
            raise

    return wrapper


# --- messages owed by the delivery timer ---------------------------------------


async def _shown(
    uow: UnitOfWork, recommendation_id: int, kind: DeliveryKind, batch: Batch
) -> recommendation_queries.Shown:
    """Read once per recommendation and run of the timer (a fan-out renders hundreds)."""
    facts = await batch.memo(
        ("recommendation", recommendation_id), lambda: recommendation_queries.shown(uow, recommendation_id)
    )
    if kind is DeliveryKind.OUTCOME:
        facts = await recommendation_queries.with_final_tally(uow, facts)
    return facts


async def render_delivery(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """A recommendation, the reminder before its deadline, or its outcome, for one member."""
    assert item.recommendation_id is not None
    texts, tz, now = runtime.texts, runtime.settings.timezone, runtime.clock()
    facts = await _shown(uow, item.recommendation_id, item.kind, batch)
    recommendation = facts.recommendation
    if item.kind is DeliveryKind.OUTCOME:
        assert facts.tally is not None
        rid = recommendation.id
        decided = await batch.memo(("tracking", rid), lambda: uow.trackings.get(rid))
        result = texts.plain(lang, f"tracking.result_{decided.result.value}") if decided is not None else None
        return [Message(outcome_message(texts, lang, recommendation, facts.tally, facts.comments, result))]
    if item.kind is DeliveryKind.DEADLINE_PASSED:
        return [after_deadline_message(texts, lang, await recommendation_deadlines.state(uow, recommendation), tz)]
    key = HEADERS.get(item.kind, "recommendations.card_reminder")
    header = texts.get(lang, key, id=recommendation.id)
    text = answerable_card(texts, lang, recommendation, tz, now, header)
    return [Message(text, stance_rows(texts, lang, recommendation.id, facts.stances.get(item.person_id)))]


HEADERS = {
    DeliveryKind.RECOMMENDATION: "recommendations.card_new",
    DeliveryKind.RECOMMENDATION_LATE: "recommendations.card_late",
    DeliveryKind.FEEDBACK_DUE: "recommendations.card_reminder",
}

RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_delivery for kind in RECOMMENDATION_KINDS}
