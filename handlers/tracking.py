"""Tracking handlers (SPEC 14): /track (aliases /stand, /wiedervorlage), the
item's card and its buttons, the questions after closing a recommendation as
adopted, and the review date's reminder. The rules are in `bot.core.tracking`
and `bot.core.tracking_changes`.

- `/track` (coordination): one line per tracked recommendation in the list's
  order (red, yellow, green, finished last): the light, `#id`, the text
  shortened, Zuständig, Fällig bis, Stand (with the reason when verzögert),
  Wiedervorlage; a legend in words; a button per item opening its card. A
  long list is split between items into several messages, each with the
  buttons of its items. An empty list says how an item gets there.
- `/track <id>` (also `#7`): the card (light in emoji and words, text,
  groups, result, closed on, every field or "noch offen") with the buttons
  "Zuständig ändern", "Fälligkeit ändern", "Stand ändern", "Wiedervorlage
  ändern". A date is offered as buttons (`tracking_changes.date_choices`) or
  typed; "Stand ändern" offers the four states, the current one marked ✓.
  After every change: what was saved, and the card as it is now.
- After closing as adopted (`handlers.recommendations`) the bot asks in turn
  for Zuständig, Fällig bis, Wiedervorlage, each with "Später festlegen";
  at the end it shows the card.
- The review reminder (REVIEW_DUE): "Wiedervorlage heute" with the card's
  facts and buttons to update the item; an item no longer tracked gets a
  short text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import people, tracking, tracking_changes
from bot.core.commands import by_name
from bot.core.dates import format_date
from bot.core.errors import Refusal
from bot.core.reminders import Due
from bot.core.session_choices import day_code, from_day_code
from bot.core.steps import Step
from bot.core.tracking import Item, Light
from bot.core.tracking_changes import Change, Field
from bot.render.texts import Html, Texts, escape
from bot.render.units import Piece, one_line, pack, shorten
from handlers import tracking_payloads as tp
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.outbox import Batch, Message, Part, Renderer
from handlers.recommendation_messages import group_names
from handlers.registration import TextAnswer
from storage.models import DeliveryKind
from storage.tracking_models import RecommendationResult, Tracking, TrackStatus
from storage.uow import UnitOfWork

TEXT_IN_LIST = 80
TEXT_IN_CARD = 600
REASON_IN_LIST = 120
REASON_IN_CARD = 500
"""Lengths (as Telegram counts them) of a recommendation's text and of the reason
for a delay, in the list and on the card."""
BUTTONS_PER_MESSAGE = 30
"""At most this many "öffnen" buttons (items) in one message of the list."""
_ID = re.compile(r"#?\s*([0-9]{1,18})")


# --- how things look --------------------------------------------------------------


def _label(texts: Texts, lang: str, key: str) -> str:
    return texts.plain(lang, f"tracking.{key}")


def _day(texts: Texts, lang: str, day: date | None) -> str:
    return format_date(day, lang) if day is not None else _label(texts, lang, "not_set")


def status_words(texts: Texts, lang: str, row: Tracking, reason_limit: int = REASON_IN_CARD) -> str:
    """`in Arbeit`, or `verzögert, Grund: …`."""
    status = _label(texts, lang, f"status_{row.status.value}")
    if row.status is TrackStatus.DELAYED and row.delay_reason:
        reason = one_line(row.delay_reason, reason_limit)
        return texts.plain(lang, "tracking.status_with_reason", status=status, reason=reason)
    return status


def _fields(texts: Texts, lang: str, row: Tracking, reason_limit: int = REASON_IN_CARD) -> list[tuple[str, str]]:
    return [
        (_label(texts, lang, "field_responsible"), row.responsible or _label(texts, lang, "not_set")),
        (_label(texts, lang, "field_due"), _day(texts, lang, row.due_on)),
        (_label(texts, lang, "field_status"), status_words(texts, lang, row, reason_limit)),
        (_label(texts, lang, "field_review"), _day(texts, lang, row.review_on)),
    ]


def card(runtime: Runtime, lang: str, item: Item, header: Html | None = None) -> Html:
    """One tracked recommendation with every fact (the card of `/track <id>`)."""
    texts, tz = runtime.texts, runtime.settings.timezone
    row = item.tracking
    recommendation = row.recommendation
    light = item.light.value
    lines: list[str] = []
    if header is not None:
        lines.append(header)
    lines.append(
        texts.get(
            lang,
            "tracking.card_title",
            light=_label(texts, lang, f"light_{light}"),
            id=item.id,
            word=_label(texts, lang, f"light_{light}_word"),
        )
    )
    lines.append(escape(shorten(recommendation.text, TEXT_IN_CARD)))
    lines.append("")
    lines.append(texts.get(lang, "recommendations.card_groups", groups=group_names(texts, lang, recommendation.groups)))
    closed = recommendation.closed_at.astimezone(tz).date() if recommendation.closed_at is not None else None
    lines.append(
        texts.get(
            lang,
            "tracking.card_result",
            result=_label(texts, lang, f"result_{row.result.value}"),
            date=_day(texts, lang, closed),
        )
    )
    lines += [
        texts.get(lang, "tracking.card_field", label=label, value=value) for label, value in _fields(texts, lang, row)
    ]
    if row.status is TrackStatus.DONE and row.done_at is not None:
        lines.append(texts.get(lang, "tracking.card_done", date=format_date(row.done_at.astimezone(tz).date(), lang)))
    return Html("\n".join(lines))


def card_rows(texts: Texts, lang: str, recommendation_id: int) -> Rows:
    """Zuständig / Fälligkeit / Stand / Wiedervorlage ändern."""

    def button(key: str, field: str) -> tuple[str, tp.ChangeTracking]:
        return texts.plain(lang, f"tracking.{key}"), tp.ChangeTracking(recommendation_id, field)

    return [
        [button("change_responsible", "responsible"), button("change_due", "due")],
        [button("change_status", "status"), button("change_review", "review")],
    ]


def _list_line(texts: Texts, lang: str, item: Item) -> Html:
    row = item.tracking
    facts = " · ".join(f"{label}: {value}" for label, value in _fields(texts, lang, row, REASON_IN_LIST))
    return texts.get(
        lang,
        "tracking.list_line",
        light=_label(texts, lang, f"light_{item.light.value}"),
        id=item.id,
        text=one_line(row.recommendation.text, TEXT_IN_LIST),
        facts=facts,
    )


def list_messages(texts: Texts, lang: str, items: Sequence[Item]) -> list[tuple[Html, Rows]]:
    """The /track list: one or more messages, each with the "öffnen" buttons of its items."""
    if not items:
        return [(texts.get(lang, "tracking.list_none"), ())]
    legend = " · ".join(
        f"{_label(texts, lang, f'light_{light.value}')} {_label(texts, lang, f'light_{light.value}_word')}"
        for light in Light
    )
    counts = tracking.counts(items)
    head = texts.get(
        lang,
        "tracking.list_title",
        count=len(items),
        red=counts[Light.RED],
        done=counts[Light.DONE],
    )
    pieces: list[Piece[tuple[str, tp.OpenTracking]]] = [
        Piece(head + "\n" + texts.get(lang, "tracking.list_legend", legend=legend))
    ]
    for one in items:
        button = (texts.plain(lang, "tracking.open_button", id=one.id), tp.OpenTracking(one.id))
        pieces.append(Piece(_list_line(texts, lang, one), "\n\n", button))
    pieces.append(Piece(texts.get(lang, "tracking.list_hint"), "\n\n"))
    messages: list[tuple[Html, Rows]] = []
    for text, buttons in pack(pieces, most_extras=BUTTONS_PER_MESSAGE):
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        messages.append((text, rows))
    return messages


def question(
    texts: Texts, lang: str, recommendation_id: int, field: Field, today: date, guided: bool
) -> tuple[Html, Rows]:
    """The question for one field, with date buttons where it is a date, and
    "Später festlegen" (after closing) or "Nicht ändern" (from the card)."""
    rows: list[list[tuple[str, tp.Payload]]] = []
    if field in (Field.DUE, Field.REVIEW):
        rows.append(
            [
                (
                    format_date(day, lang),
                    tp.TrackingDate(recommendation_id, field is Field.REVIEW, day_code(day)),
                )
                for day in tracking_changes.date_choices(today)
            ]
        )
    skip = "skip_button" if guided else "keep_button"
    rows.append([(texts.plain(lang, f"tracking.{skip}"), tp.SkipTracking(recommendation_id))])
    return texts.get(lang, f"tracking.ask_{field.value}", id=recommendation_id), rows


def status_rows(texts: Texts, lang: str, row: Tracking) -> Rows:
    """offen / in Arbeit / verzögert / erledigt, the current one marked ✓."""

    def label(status: TrackStatus) -> str:
        name = _label(texts, lang, f"status_{status.value}")
        return texts.plain(lang, "tracking.current", status=name) if status is row.status else name

    buttons = [(label(s), tp.TrackingStatus(row.recommendation_id, s.value.replace("_", "-"))) for s in TrackStatus]
    return [buttons[:2], buttons[2:]]


def saved_line(texts: Texts, lang: str, change: Change) -> Html | None:
    """What was saved ("Gespeichert: Fällig bis 31.03.2027."), None when nothing changed."""
    row = change.item.tracking
    if change.changed is Field.RESPONSIBLE:
        return texts.get(lang, "tracking.saved_responsible", value=row.responsible or "")
    if change.changed is Field.DUE:
        return texts.get(lang, "tracking.saved_due", value=_day(texts, lang, row.due_on))
    if change.changed is Field.REVIEW:
        return texts.get(lang, "tracking.saved_review", value=_day(texts, lang, row.review_on))
    if change.changed in (Field.STATUS, Field.REASON):
        return texts.get(lang, "tracking.saved_status", value=status_words(texts, lang, row))
    return None


# --- /track -----------------------------------------------------------------------


def parse_id(text: str) -> int:
    """`7` or `#7`; anything else a polite answer with an example."""
    match = _ID.fullmatch(text.strip())
    if match is None:
        raise Refusal("tracking.bad_id", value=text.strip()[:40])
    return int(match.group(1))


@action
async def track_command(request: Request) -> None:
    """`/track`: the list; `/track <id>`: one item's card."""
    uow, me = await request.uow(), await request.person()
    people.require_coordinator(me, request.settings)
    rest = " ".join(request.args)
    if rest:
        item = await tracking.item(uow, me, parse_id(rest), request.settings, request.now())
        await show_card(request, item)
        return
    items = await tracking.tracking_list(uow, me, request.settings, request.now())
    for text, rows in list_messages(request.runtime.texts, request.lang, items):
        await request.reply(text, rows)


async def show_card(request: Request, item: Item, saved: Html | None = None) -> None:
    texts, lang = request.runtime.texts, request.lang
    text = card(request.runtime, lang, item)
    if saved is not None:
        text = Html(saved + "\n\n" + text)
    await request.reply(text, card_rows(texts, lang, item.id))


async def open_pressed(request: Request) -> None:
    """ "#7 öffnen" in the list: the card."""
    assert isinstance(request.payload, tp.OpenTracking)
    item = await tracking.item(
        await request.uow(), await request.person(), request.payload.recommendation_id, request.settings, request.now()
    )
    await request.answer()
    await show_card(request, item)


async def change_pressed(request: Request) -> None:
    """A button of the card: ask for the field (the states as buttons for "Stand ändern")."""
    assert isinstance(request.payload, tp.ChangeTracking)
    uow, me, now = await request.uow(), await request.person(), request.now()
    rid, field = request.payload.recommendation_id, request.payload.field
    texts, lang = request.runtime.texts, request.lang
    if field == "status":
        item = await tracking.item(uow, me, rid, request.settings, now)
        await request.answer()
        await request.reply(texts.get(lang, "tracking.ask_status", id=item.id), status_rows(texts, lang, item.tracking))
        return
    if field not in (Field.RESPONSIBLE.value, Field.DUE.value, Field.REVIEW.value):
        raise Refusal("buttons.stale")
    item = await tracking_changes.ask(uow, me, rid, Field(field), request.settings, now)
    await request.answer()
    today = tracking.local_today(now, request.settings)
    await request.reply(*question(texts, lang, item.id, Field(field), today, guided=False))


async def show_change(request: Request, change: Change) -> None:
    """What was saved, then the next question (after closing, or the reason), or the card."""
    texts, lang = request.runtime.texts, request.lang
    saved = saved_line(texts, lang, change)
    if change.asks is not None:
        today = tracking.local_today(request.now(), request.settings)
        rows: Rows = ()
        if change.asks is Field.REASON:
            text = texts.get(lang, "tracking.ask_reason", id=change.item.id)
        else:
            text, rows = question(
                texts, lang, change.item.id, change.asks, today, guided=change.asks in tracking_changes.GUIDED
            )
        await request.reply(Html(saved + "\n\n" + text) if saved is not None else text, rows)
        return
    if saved is None:
        saved = texts.get(lang, "tracking.nothing_changed")
    await show_card(request, change.item, saved)


async def date_pressed(request: Request) -> None:
    """A date button for Fällig bis or Wiedervorlage."""
    assert isinstance(request.payload, tp.TrackingDate)
    payload = request.payload
    field = Field.REVIEW if payload.review else Field.DUE
    day = from_day_code(payload.day)
    if day is None:  # a forged button: no such day
        raise Refusal("buttons.stale")
    change = await tracking_changes.choose_date(
        await request.uow(),
        await request.person(),
        payload.recommendation_id,
        field,
        day,
        request.settings,
        request.now(),
    )
    await request.answer()
    await request.edit(rows=())
    await show_change(request, change)
    request.wake_deliveries()


async def skip_pressed(request: Request) -> None:
    """ "Später festlegen" / "Nicht ändern": the field stays as it is."""
    assert isinstance(request.payload, tp.SkipTracking)
    change = await tracking_changes.skip(
        await request.uow(), await request.person(), request.payload.recommendation_id, request.settings, request.now()
    )
    await request.answer()
    await request.edit(rows=())
    await show_change(request, change)


async def status_pressed(request: Request) -> None:
    """A state pressed: saved at once; verzögert asks for the reason."""
    assert isinstance(request.payload, tp.TrackingStatus)
    try:
        status = TrackStatus(request.payload.status.replace("-", "_"))
    except ValueError:
        raise Refusal("buttons.stale") from None
    change = await tracking_changes.set_status(
        await request.uow(),
        await request.person(),
        request.payload.recommendation_id,
        status,
        request.settings,
        request.now(),
    )
    await request.answer()
    await request.edit(rows=())
    await show_change(request, change)


async def field_text(request: Request, text: str) -> None:
    """The text for the awaited field: Zuständig, a date, or the reason for a delay."""
    change = await tracking_changes.answer(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await show_change(request, change)
    request.wake_deliveries()


# --- closing as adopted: the first question (called by handlers.recommendations) ----


def result_rows(texts: Texts, lang: str, recommendation_id: int) -> Rows:
    """Angenommen / Nicht angenommen / Zur Kenntnis genommen."""
    return [
        [(texts.plain(lang, f"tracking.choose_{result.value}"), tp.ChooseResult(recommendation_id, result.value))]
        for result in RecommendationResult
    ]


def first_question(request: Request, recommendation_id: int, field: Field) -> tuple[Html, Rows]:
    texts, lang = request.runtime.texts, request.lang
    today = tracking.local_today(request.now(), request.settings)
    text, rows = question(texts, lang, recommendation_id, field, today, guided=True)
    return Html(texts.get(lang, "tracking.now_tracked", id=recommendation_id) + "\n\n" + text), rows


# --- what the delivery timer sends -------------------------------------------------


async def render_review(runtime: Runtime, uow: UnitOfWork, due: Due, lang: str, batch: Batch) -> list[Part]:
    """The review date's reminder to a coordinator: the item and buttons to update it."""
    texts = runtime.texts
    row = await uow.trackings.get(due.tracking_id or 0)
    if row is None or row.result is not RecommendationResult.ADOPTED:
        return [Message(texts.get(lang, "tracking.review_gone", id=due.tracking_id or 0))]
    today = tracking.local_today(runtime.clock(), runtime.settings)
    item = Item(row, tracking.light(row, today))
    header = texts.get(lang, "tracking.review_title", id=item.id)
    rid = item.id
    rows: Rows = [
        [(texts.plain(lang, "tracking.change_status"), tp.ChangeTracking(rid, "status"))],
        [(texts.plain(lang, "tracking.new_review"), tp.ChangeTracking(rid, "review"))],
        [(texts.plain(lang, "tracking.change_due"), tp.ChangeTracking(rid, "due"))],
    ]
    return [Message(card(runtime, lang, item, header), rows)]


RENDERERS: dict[DeliveryKind, Renderer] = {DeliveryKind.REVIEW_DUE: render_review}


def handlers() -> list[BaseHandler]:
    command = by_name("track")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], track_command, filters=filters.ChatType.PRIVATE)]


TEXT_ANSWERS: dict[Step, TextAnswer] = {Step.TRACK_FIELD: field_text}

CALLBACKS: dict[type, Handler] = {
    tp.OpenTracking: open_pressed,
    tp.ChangeTracking: change_pressed,
    tp.TrackingDate: date_pressed,
    tp.TrackingStatus: status_pressed,
    tp.SkipTracking: skip_pressed,
}
