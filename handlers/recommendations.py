"""Recommendation handlers: /recommend, /feedback, the stance and comment
buttons.

- `/recommend` (coordination): one line `/recommend <group|all|g1,g2> <text>
  [| <date> [<HH:MM>]]` publishes at once; without arguments the bot offers
  the groups and "Alle Gruppen" as buttons, then asks for the text;
  `/recommend <group>` alone asks for the text. A guided text ends in a
  preview (the card, the number of recipients) with "Senden" / "Abbrechen".
- After a deadline: `handlers.recommendation_deadlines`.
- `/feedback` (members): without arguments, one header line and one card
  per recommendation still waiting for the member's answer (at most 10);
  `/feedback <id>` the card again, with the buttons while answers are
  possible; `/feedback <id> <text>` a comment. For a coordinator,
  `/feedback` lists the open recommendations with their tallies and a
  button to open each; `/feedback <id>` shows the feedback (tally, how many
  have not answered, the newest comments) with "Abschließen".
- A stance button saves the stance, answers with a short notice and marks
  the chosen button ("✓ Bedenken"); "Kommentar" asks for the comment;
  "Abschließen" asks for the steering circle's result (angenommen, nicht
  angenommen, zur Kenntnis genommen), then for the outcome note
  (`bot.core.recommendation_closing`); closed as adopted, the bot asks right
  away for what tracking needs (`handlers.tracking`).
- How the messages look (cards, overviews, the outcome) and what the
  delivery timer sends: `handlers.recommendation_messages`.

Dates inside refusals come from the core as datetimes and are written
in the reader's language (`recommendation_messages.dates_for_reader`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import membership, people
from bot.core import recommendation_closing as closing
from bot.core import recommendations as core
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.steps import Step
from bot.render.texts import Html, escape
from bot.render.units import one_line, shorten
from handlers import payloads as p
from handlers import recommendation_deadlines, tracking
from handlers import tracking_payloads as tp
from handlers.common import Handler, Request, Rows, action
from handlers.recommendation_messages import (
    OUTCOME_IN_OVERVIEW,
    TEXT_IN_LIST,
    answerable_card,
    card,
    dates_for_reader,
    deadline_words,
    group_names,
    overview_message,
    preview_message,
    preview_rows,
    stance_name,
    stance_rows,
    tally_line,
)
from handlers.registration import TextAnswer
from storage.models import COMMENT_MAX, OUTCOME_MAX, RECOMMENDATION_TEXT_MAX, RecommendationStatus
from storage.tracking_models import RecommendationResult


def _tz(request: Request) -> ZoneInfo:
    return request.settings.timezone


# --- handlers ------------------------------------------------------------------------


def _arguments(request: Request, parts: int) -> list[str]:
    """The command's words, the last one the rest of the message as written (lines kept)."""
    message = request.update.effective_message
    words = (message.text or "").split(maxsplit=parts) if message is not None else []
    return words[1:]


@action
@dates_for_reader
async def recommend_command(request: Request) -> None:
    """`/recommend <group|all|g1,g2> <text> [| <date> [<HH:MM>]]`; guided without arguments."""
    args = _arguments(request, 1)
    uow, me = await request.uow(), await request.person()
    if not args:
        groups = await membership.groups_to_choose(uow, me, request.settings)
        rows = [[(g.name, p.RecommendTo(g.id))] for g in groups]
        rows.append([(request.label("recommendations.all_groups_button"), p.RecommendTo(0))])
        await request.reply(request.t("recommendations.choose_target"), rows)
        return
    result = await core.recommend(uow, me, args[0], request.settings, request.now())
    if isinstance(result, core.TextWanted):
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


@dates_for_reader
async def target_pressed(request: Request) -> None:
    """Guided /recommend: the target was chosen; ask for the text."""
    assert isinstance(request.payload, p.RecommendTo)
    targets = await core.start_guided(
        await request.uow(), await request.person(), request.payload.group_id, request.settings
    )
    await request.answer()
    await request.edit(rows=())
    await _ask_for_text(request, targets)


@dates_for_reader
async def guided_text(request: Request, text: str) -> None:
    """The text (and optional deadline) of a guided /recommend: the preview, "Senden"."""
    prepared = await core.submit_guided(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    texts = request.runtime.texts
    await request.reply(
        preview_message(texts, request.lang, prepared, _tz(request), request.now()),
        preview_rows(texts, request.lang, prepared.version),
    )


@dates_for_reader
async def preview_pressed(request: Request) -> None:
    """ "Senden" or "Abbrechen" under the preview of a guided /recommend."""
    assert isinstance(request.payload, p.RecommendationPreview)
    uow, me = await request.uow(), await request.person()
    if request.payload.action == "send":
        published = await core.send_prepared(uow, me, request.payload.version, request.settings, request.now())
        await request.answer()
        await request.edit(rows=())
        await _confirm_published(request, published)
    elif request.payload.action == "cancel":
        await core.cancel_prepared(uow, me, request.payload.version, request.settings)
        await request.answer()
        await request.edit(rows=())
        await request.reply(request.t("recommendations.preview_cancelled"))
    else:
        raise Refusal("buttons.stale")


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
@dates_for_reader
async def feedback_command(request: Request) -> None:
    """`/feedback`, `/feedback <id>`, `/feedback <id> <text>`."""
    args = _arguments(request, 2)
    now = request.now()
    uow, me = await request.uow(), await request.person()
    coordinator = people.is_coordinator(me, request.settings)
    if not args:
        if coordinator:
            await _show_open_list(request, await core.open_overviews(uow, me, request.settings))
        else:
            await _show_waiting(request, await core.waiting_for(uow, me, now))
        return
    recommendation_id = core.parse_id(args[0])
    if len(args) > 1:
        await _confirm_comment(request, await core.add_comment(uow, me, recommendation_id, args[1], now))
    elif coordinator:
        await _show_overview(request, await core.overview(uow, me, recommendation_id, request.settings))
    else:
        await _show_member_view(request, await core.member_view(uow, me, recommendation_id, now))


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
                lang,
                "recommendations.card_deadline",
                when=deadline_words(texts, lang, recommendation.deadline, tz, now),
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
        (
            request.label("recommendations.open_button", id=view.recommendation.id),
            p.OpenRecommendation(view.recommendation.id),
        )
        for view in listing.overviews
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await request.reply(Html("\n".join(lines)), rows)


@dates_for_reader
async def stance_pressed(request: Request) -> None:
    """Zustimmung / Bedenken / Ablehnung: save, say so briefly, mark the chosen button."""
    assert isinstance(request.payload, p.GiveStance)
    now = request.now()
    given = await core.give_stance(
        await request.uow(), await request.person(), request.payload.recommendation_id, request.payload.stance, now
    )
    texts, lang = request.runtime.texts, request.lang
    stance = stance_name(texts, lang, given.value)
    deadline = given.recommendation.deadline
    if not given.changed:
        notice = request.label("recommendations.saved_same", stance=stance)
    elif deadline is not None:
        notice = request.label(
            "recommendations.saved_until", stance=stance, when=format_when(deadline, _tz(request), lang)
        )
    else:
        notice = request.label("recommendations.saved_open", stance=stance)
    await request.answer(notice)
    await request.edit(rows=stance_rows(texts, lang, given.recommendation.id, given.value))


@dates_for_reader
async def comment_pressed(request: Request) -> None:
    """Kommentar: ask for the comment; the next text is saved."""
    assert isinstance(request.payload, p.WriteComment)
    recommendation = await core.start_comment(
        await request.uow(), await request.person(), request.payload.recommendation_id, request.now()
    )
    await request.answer()
    await request.reply(request.t("recommendations.ask_comment", id=recommendation.id, max=COMMENT_MAX))


@dates_for_reader
async def comment_text(request: Request, text: str) -> None:
    """The comment after the Kommentar button."""
    commented = await core.submit_comment(await request.uow(), await request.person(), text, request.now())
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


@dates_for_reader
async def open_pressed(request: Request) -> None:
    """A recommendation in the coordinator's list: its feedback."""
    assert isinstance(request.payload, p.OpenRecommendation)
    view = await core.overview(
        await request.uow(), await request.person(), request.payload.recommendation_id, request.settings
    )
    await request.answer()
    await _show_overview(request, view)


@dates_for_reader
async def close_pressed(request: Request) -> None:
    """Abschließen: ask how the steering circle decided (three buttons)."""
    assert isinstance(request.payload, p.CloseRecommendation)
    recommendation = await closing.start_close(
        await request.uow(), await request.person(), request.payload.recommendation_id, request.settings
    )
    await request.answer()
    await request.reply(
        request.t("recommendations.ask_result", id=recommendation.id),
        tracking.result_rows(request.runtime.texts, request.lang, recommendation.id),
    )


@dates_for_reader
async def result_pressed(request: Request) -> None:
    """A result chosen: ask for the outcome note."""
    assert isinstance(request.payload, tp.ChooseResult)
    try:
        result = RecommendationResult(request.payload.result)
    except ValueError:
        raise Refusal("buttons.stale") from None
    recommendation = await closing.choose_result(
        await request.uow(), await request.person(), request.payload.recommendation_id, result, request.settings
    )
    await request.answer()
    await request.edit(rows=())
    await request.reply(
        request.t(
            "recommendations.ask_outcome",
            id=recommendation.id,
            max=OUTCOME_MAX,
            result=request.label(f"tracking.result_{result.value}"),
        )
    )


@dates_for_reader
async def outcome_text(request: Request, text: str) -> None:
    """The outcome note: close with the result, tell everyone who answered; adopted, ask for the tracking."""
    closed = await closing.close(await request.uow(), await request.person(), text, request.settings, request.now())
    rid = closed.recommendation.id
    if closed.result is None:
        await request.reply(request.t("recommendations.closed_done", id=rid, count=closed.told))
    else:
        result = request.label(f"tracking.result_{closed.result.value}")
        await request.reply(request.t("recommendations.closed_with_result", id=rid, result=result, count=closed.told))
    if closed.asks is not None:
        await request.reply(*tracking.first_question(request, rid, closed.asks))
    request.wake_deliveries()


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    table = {"recommend": recommend_command, "feedback": feedback_command}
    return [
        CommandHandler([name, *by_name(name).aliases], callback, filters=private)  # type: ignore[union-attr]  # every name listed here is in the command table
        for name, callback in table.items()
    ]


TEXT_ANSWERS: dict[Step, TextAnswer] = {
    Step.RECOMMENDATION_TEXT: guided_text,
    Step.RECOMMENDATION_COMMENT: comment_text,
    Step.RECOMMENDATION_OUTCOME: outcome_text,
    **recommendation_deadlines.TEXT_ANSWERS,
}

CALLBACKS: dict[type, Handler] = {
    p.RecommendTo: target_pressed,
    p.GiveStance: stance_pressed,
    p.WriteComment: comment_pressed,
    p.OpenRecommendation: open_pressed,
    p.CloseRecommendation: close_pressed,
    tp.ChooseResult: result_pressed,
    p.RecommendationPreview: preview_pressed,
    **recommendation_deadlines.CALLBACKS,
}
