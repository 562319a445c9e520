"""Agenda handlers: /agenda, the item buttons, and how an agenda looks in a
message (also inside reminders).

- `/agenda` without text lists, per group of the caller, the session running
  now (if any) and the next one with their numbered agendas (`1. text —
  Author (#31) ✓ angenommen`), or the items waiting for a session. Under it:
  "Thema vorschlagen" and one button per item the caller may act on (their
  own items; a coordinator every item), which opens the item's card. A long
  list is split into several messages at item boundaries, each under
  Telegram's limit counted in UTF-16 code units, as Telegram counts.
- `/agenda [group] text` proposes an item; the reply says where it went.
  With several groups and none named, the bot holds the text and asks with
  group buttons.
- The card shows the item and only the buttons the person may use; after a
  press the card is redrawn with the new state. Edit and reject ask for a text.
- In reminders the agenda is shortened (`BLOCK_ITEMS` items of at most
  `BLOCK_TEXT` characters, "… und N weitere: /agenda"), so a reminder stays
  within one message whatever the members proposed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import agenda, people
from bot.core.agenda import AskGroup, AskText, Decision, ItemView, Overview, Placement
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.reminders import Due
from bot.render.texts import Html, Texts
from bot.render.units import LIMIT
from handlers import payloads as p
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.outbox import Batch, Message, Part, Renderer
from handlers.registration import TextAnswer
from storage.models import (
    AGENDA_TEXT_MAX,
    ITEM_KINDS,
    REASON_MAX,
    AgendaItem,
    AgendaStatus,
    DeliveryKind,
    Occurrence,
)
from storage.uow import UnitOfWork

BLOCK_ITEMS = 10
"""At most this many items of an agenda inside a reminder."""
BLOCK_TEXT = 150
"""An item's text inside a reminder is cut to this many characters."""
BLOCK_BUDGET = 2400
"""What the agenda may take in a reminder, in UTF-16 code units after parsing (as
Telegram counts): the rest of the message (the session card with title and place
at their maximum, headers, the call for agenda items, the question) stays below
1,600, the whole below 4,096."""
BUTTON_TEXT = 24
"""Characters of an item's text on its button."""
ITEM_BUTTONS = 40
"""Item buttons per message (Telegram allows 100 buttons)."""


def units(text: Html) -> int:
    """The length Telegram counts for a rendered text: UTF-16 code units of the
    text after parsing (tags removed, `&lt;` one character). User text in it is
    escaped, so every `<` is the start of one of the catalog's own tags."""
    plain = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(plain.encode("utf-16-le")) // 2


def shorten(text: str, maximum: int) -> str:
    """One line, at most `maximum` characters, "…" where cut."""
    line = " ".join(text.split())
    return line if len(line) <= maximum else line[: maximum - 1].rstrip() + "…"


def author_name(texts: Texts, lang: str, item: AgendaItem) -> str:
    """The author as others see them; "ehemaliges Mitglied" after /forget."""
    author = item.author
    if author is None or author.telegram_id is None:
        return texts.plain(lang, "agenda.former_member")
    return people.name_of(author)


def item_line(texts: Texts, lang: str, number: int, item: AgendaItem, maximum: int | None = None) -> Html:
    """`1. text — Author (#31) ✓ angenommen`."""
    key = "agenda.line_accepted" if item.status is AgendaStatus.ACCEPTED else "agenda.line"
    text = shorten(item.text, maximum) if maximum else item.text
    return texts.get(lang, key, number=number, text=text, author=author_name(texts, lang, item), id=item.id)


def when(lang: str, occurrence: Occurrence) -> str:
    return format_when(occurrence.starts_at, ZoneInfo(occurrence.meeting.timezone), lang)


# --- the agenda inside reminders and invitations ------------------------------------------


def agenda_block(texts: Texts, lang: str, items: Sequence[AgendaItem]) -> Html:
    """A session's agenda inside a reminder: numbered, short enough for any message."""
    if not items:
        return texts.get(lang, "agenda.block_empty")
    lines = [texts.get(lang, "agenda.block_title")]
    used = units(lines[0])
    for number, item in enumerate(items, 1):
        line = item_line(texts, lang, number, item, BLOCK_TEXT)
        if number > BLOCK_ITEMS or used + units(line) + 1 > BLOCK_BUDGET:
            lines.append(texts.get(lang, "agenda.block_more", count=len(items) - number + 1))
            break
        lines.append(line)
        used += units(line) + 1
    return Html("\n".join(lines))


async def render_notice(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """The note to an item's author (rejected with the reason, deferred)."""
    texts = runtime.texts
    found = await uow.agenda.get(item.agenda_item_id or 0)
    if found is None:
        return [Message(texts.get(lang, "agenda.notice_gone"))]
    common = {"id": found.id, "group": found.group.name, "text": found.text}
    if item.kind is DeliveryKind.ITEM_REJECTED:
        return [Message(texts.get(lang, "agenda.notice_rejected", reason=found.reason or "—", **common))]
    if found.occurrence is None:
        text = texts.get(lang, "agenda.notice_deferred_waiting", **common)
    else:
        text = texts.get(
            lang,
            "agenda.notice_deferred",
            session=found.occurrence.id,
            title=found.occurrence.meeting.title,
            when=when(lang, found.occurrence),
            **common,
        )
    return [Message(text, [[(texts.plain(lang, "agenda.open_button"), p.OpenItem(found.id))]])]


# --- /agenda -------------------------------------------------------------------------


def after_command(text: str) -> str:
    """What follows the command word, exactly as written."""
    match = re.match(r"\s*\S+", text)
    return text[match.end() :] if match else ""


@action
async def agenda_command(request: Request) -> None:
    """`/agenda [group] [text]`: show the agendas, or propose an item."""
    message = request.update.effective_message
    rest = after_command(message.text or "") if message else ""
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        outcome = await agenda.command(uow, me, rest, request.settings, request.now())
    if isinstance(outcome, Overview):
        await show_overview(request, outcome)
    elif isinstance(outcome, AskGroup):
        await ask_group(request, outcome, held=True)
    else:
        await confirm_placement(request, outcome)


async def show_overview(request: Request, overview: Overview) -> None:
    for text, rows in render_overview(request.runtime.texts, request.lang, overview):
        await request.reply(text, rows)


def render_overview(texts: Texts, lang: str, overview: Overview) -> list[tuple[Html, Rows]]:
    """The agendas as messages, split at item boundaries, each with the buttons of its items."""
    entries: list[tuple[Html, tuple[str, p.Payload] | None]] = []

    def add(line: Html, item: AgendaItem | None = None) -> None:
        button = None
        if item is not None and overview.may_open(item):
            label = texts.plain(lang, "agenda.item_button", id=item.id, text=shorten(item.text, BUTTON_TEXT))
            button = (label, p.OpenItem(item.id))
        entries.append((line, button))

    for section in overview.groups:
        if entries:
            add(Html(""))
        add(texts.get(lang, "agenda.group_title", group=section.group.name))
        if not section.sessions:
            add(texts.get(lang, "agenda.no_session"))
        for session in section.sessions:
            occurrence = session.occurrence
            add(
                texts.get(
                    lang, "agenda.session", id=occurrence.id, title=occurrence.meeting.title, when=when(lang, occurrence)
                )
            )
            if session.running:
                add(texts.get(lang, "agenda.running"))
            elif session.deadline is not None:
                deadline = format_when(session.deadline, ZoneInfo(occurrence.meeting.timezone), lang)
                key = "agenda.deadline_passed" if session.deadline_passed else "agenda.deadline"
                add(texts.get(lang, key, when=deadline))
            if not session.items:
                add(texts.get(lang, "agenda.no_items"))
            for number, item in enumerate(session.items, 1):
                add(item_line(texts, lang, number, item), item)
        if section.waiting:
            add(texts.get(lang, "agenda.waiting_title"))
            for number, item in enumerate(section.waiting, 1):
                add(item_line(texts, lang, number, item), item)
        elif not section.sessions:
            add(texts.get(lang, "agenda.no_items"))
    groups = [section.group for section in overview.groups]
    add(Html(""))
    add(texts.get(lang, "agenda.hint", slug=groups[0].slug))
    propose = (texts.plain(lang, "agenda.propose_button"), p.ProposeItem(groups[0].id if len(groups) == 1 else 0))
    return _pack(entries, propose)


def _pack(
    entries: list[tuple[Html, tuple[str, p.Payload] | None]], last_button: tuple[str, p.Payload]
) -> list[tuple[Html, Rows]]:
    messages: list[tuple[Html, Rows]] = []
    lines: list[Html] = []
    buttons: list[tuple[str, p.Payload]] = []
    size = 0

    def flush() -> None:
        nonlocal lines, buttons, size
        text = "\n".join(lines).strip("\n")
        if text:
            messages.append((Html(text), [[button] for button in buttons]))
        lines, buttons, size = [], [], 0

    for line, button in entries:
        cost = units(line) + 1
        if lines and (size + cost > LIMIT or (button is not None and len(buttons) >= ITEM_BUTTONS)):
            flush()
        lines.append(line)
        size += cost
        if button is not None:
            buttons.append(button)
    flush()
    text, rows = messages[-1]
    messages[-1] = (text, [*rows, [last_button]])
    return messages


async def confirm_placement(request: Request, placement: Placement) -> None:
    """Where the new item went, with its id, and the author's buttons. After a
    missed deadline the reply names the session missed and the one it is on."""
    item, session, missed = placement.item, placement.session, placement.missed
    text = request.t("agenda.saved", id=item.id, text=item.text)
    on: dict[str, object] = {}
    if session is not None:
        on = {"session": session.id, "title": session.meeting.title, "when": when(request.lang, session)}
    if missed is not None:
        assert placement.missed_deadline is not None
        late = {
            "missed": missed.id,
            "missed_when": when(request.lang, missed),
            "deadline": format_when(placement.missed_deadline, ZoneInfo(missed.meeting.timezone), request.lang),
        }
        if session is not None:
            where = request.t("agenda.late_placed", number=placement.number, **late, **on)
        else:
            where = request.t("agenda.late_waiting", **late)
    elif session is not None:
        where = request.t("agenda.placed", number=placement.number, **on)
    else:
        where = request.t("agenda.placed_waiting", group=item.group.name)
    await request.reply(
        text + "\n\n" + where,
        [[
            (request.label("agenda.edit_button"), p.ItemAction(item.id, "edit")),
            (request.label("agenda.withdraw_button"), p.ItemAction(item.id, "withdraw")),
        ]],
    )


async def ask_group(request: Request, asked: AskGroup, held: bool) -> None:
    key = "agenda.ask_group" if held else "agenda.choose_group"
    await request.reply(request.t(key), [[(g.name, p.ItemForGroup(g.id))] for g in asked.groups])


async def ask_text(request: Request, asked: AskText) -> None:
    await request.reply(request.t("agenda.ask_text", group=asked.group.name, max=AGENDA_TEXT_MAX))


# --- buttons -----------------------------------------------------------------------


async def propose_pressed(request: Request) -> None:
    """"Thema vorschlagen": ask for the group, or for the text."""
    assert isinstance(request.payload, p.ProposeItem)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        asked = await agenda.start_proposal(uow, me, request.payload.group_id, request.settings)
    await request.answer()
    if isinstance(asked, AskGroup):
        await ask_group(request, asked, held=False)
    else:
        await ask_text(request, asked)


async def group_pressed(request: Request) -> None:
    """A group chosen for a new item: save the held text there, or ask for it."""
    assert isinstance(request.payload, p.ItemForGroup)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        outcome = await agenda.choose_group(uow, me, request.payload.group_id, request.settings, request.now())
    await request.answer()
    await request.edit(rows=())
    if isinstance(outcome, AskText):
        await ask_text(request, outcome)
    else:
        await confirm_placement(request, outcome)


async def open_pressed(request: Request) -> None:
    """An item's button under an agenda: its card."""
    assert isinstance(request.payload, p.OpenItem)
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        view = await agenda.open_item(uow, me, request.payload.item_id, request.settings, request.now())
    await request.answer()
    await request.reply(*card(request, view))


async def action_pressed(request: Request) -> None:
    """A button on an item: the author's edit / withdraw, the coordination's
    accept / reject / defer / up / down. Whether the person may, and whether the
    item is still open, is decided from the database."""
    assert isinstance(request.payload, p.ItemAction)
    item_id, name = request.payload.item_id, request.payload.action
    # "defer-12": defer from session #12, so that a second press defers no further.
    name, _, from_session = name.partition("-") if name.startswith("defer-") else (name, "", "")
    if name not in agenda.AUTHOR_ACTIONS | agenda.COORDINATION_ACTIONS or not (
        from_session == "" or from_session.isdigit()
    ):
        raise Refusal("buttons.stale")
    settings, now = request.settings, request.now()
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, now)
        if name == "edit":
            item = await agenda.start_edit(uow, me, item_id, settings, now)
        elif name == "reject":
            item = await agenda.start_reject(uow, me, item_id, settings, now)
        elif name == "withdraw":
            view = await agenda.withdraw(uow, me, item_id, settings, now)
        elif name == "accept":
            view = await agenda.accept(uow, me, item_id, settings, now)
        elif name == "defer":
            decision = await agenda.defer(uow, me, item_id, settings, now, int(from_session) if from_session else None)
            view = decision.view
        else:
            view = await agenda.move(uow, me, item_id, name == "up", settings, now)
    if name == "edit":
        await request.answer()
        await request.reply(request.t("agenda.ask_edit", id=item.id, text=item.text, max=AGENDA_TEXT_MAX))
        return
    if name == "reject":
        await request.answer()
        texts = request.runtime.texts
        await request.reply(
            request.t("agenda.ask_reason", id=item.id, author=author_name(texts, request.lang, item), max=REASON_MAX)
        )
        return
    await request.answer(request.label(f"agenda.done_{name}"))
    await request.edit(*card(request, view))
    if name == "withdraw":
        await request.reply(request.t("agenda.withdrawn", id=view.item.id))
    elif name == "accept":
        await request.reply(request.t("agenda.accepted", id=view.item.id))
    elif name == "defer":
        await request.reply(deferred_text(request, decision))
        request.wake_deliveries()


def deferred_text(request: Request, decision: Decision) -> Html:
    item = decision.view.item
    if item.occurrence is None:
        text: str = request.t("agenda.deferred_waiting", id=item.id)
    else:
        text = request.t(
            "agenda.deferred",
            id=item.id,
            session=item.occurrence.id,
            title=item.occurrence.meeting.title,
            when=when(request.lang, item.occurrence),
        )
    if decision.told:
        text += " " + request.t("agenda.author_told", author=author_name(request.runtime.texts, request.lang, item))
    return Html(text)


def card(request: Request, view: ItemView) -> tuple[Html, Rows]:
    """An item with its state and place, and the buttons this person may use."""
    texts, lang = request.runtime.texts, request.lang
    item = view.item
    lines = [
        texts.get(lang, "agenda.card_title", id=item.id, group=item.group.name),
        texts.get(lang, "agenda.card_text", text=item.text),
        texts.get(lang, "agenda.card_author", author=author_name(texts, lang, item)),
        texts.get(lang, "agenda.card_state", state=texts.get(lang, f"agenda.state_{item.status.value}")),
    ]
    if item.status is AgendaStatus.REJECTED and item.reason:
        lines.append(texts.get(lang, "agenda.card_reason", reason=item.reason))
    session = item.occurrence
    if session is not None and view.number is not None:
        lines.append(
            texts.get(
                lang,
                "agenda.card_session",
                session=session.id,
                title=session.meeting.title,
                when=when(lang, session),
                number=view.number,
                count=view.count,
            )
        )
    elif session is not None:
        lines.append(
            texts.get(lang, "agenda.card_was_session", session=session.id, title=session.meeting.title, when=when(lang, session))
        )
    elif view.number is not None:
        lines.append(texts.get(lang, "agenda.card_waiting", number=view.number, count=view.count))
    rows: list[Sequence[tuple[str, p.Payload]]] = []
    if view.may_edit:
        rows.append([
            (texts.plain(lang, "agenda.edit_button"), p.ItemAction(item.id, "edit")),
            (texts.plain(lang, "agenda.withdraw_button"), p.ItemAction(item.id, "withdraw")),
        ])
    if view.may_decide:
        decide = [(texts.plain(lang, "agenda.reject_button"), p.ItemAction(item.id, "reject"))]
        if item.status is AgendaStatus.PROPOSED:
            decide.insert(0, (texts.plain(lang, "agenda.accept_button"), p.ItemAction(item.id, "accept")))
        rows.append(decide)
        if session is not None:
            rows.append([(texts.plain(lang, "agenda.defer_button"), p.ItemAction(item.id, f"defer-{session.id}"))])
        order = []
        if not view.first:
            order.append((texts.plain(lang, "agenda.up_button"), p.ItemAction(item.id, "up")))
        if not view.last:
            order.append((texts.plain(lang, "agenda.down_button"), p.ItemAction(item.id, "down")))
        if order:
            rows.append(order)
    return Html("\n".join(lines)), rows


# --- answers to the bot's questions -------------------------------------------------------


async def text_for_group_question(request: Request, text: str) -> None:
    """A text while the bot asks for the group: the item's text; the group is still asked."""
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        outcome = await agenda.hold_text(uow, me, text, request.settings, request.now())
    if isinstance(outcome, AskGroup):
        await ask_group(request, outcome, held=True)
    else:
        await confirm_placement(request, outcome)


async def new_item_text(request: Request, text: str) -> None:
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        placement = await agenda.submit_text(uow, me, text, request.settings, request.now())
    await confirm_placement(request, placement)


async def edited_text(request: Request, text: str) -> None:
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        decision = await agenda.submit_edit(uow, me, text, request.settings, request.now())
    reply: str = request.t("agenda.edited", id=decision.view.item.id)
    if decision.reopened:
        reply += "\n" + request.t("agenda.reopened")
    body, rows = card(request, decision.view)
    await request.reply(reply + "\n\n" + body, rows)


async def rejection_reason(request: Request, text: str) -> None:
    async with request.uow() as uow:
        me = await people.ensure_person(uow, request.caller, request.now())
        decision = await agenda.submit_reason(uow, me, text, request.settings, request.now())
    item = decision.view.item
    reply: str = request.t("agenda.rejected", id=item.id)
    if decision.told:
        reply += " " + request.t("agenda.author_told", author=author_name(request.runtime.texts, request.lang, item))
    await request.reply(reply)
    request.wake_deliveries()


def handlers() -> list[BaseHandler]:
    command = by_name("agenda")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], agenda_command, filters=filters.ChatType.PRIVATE)]


TEXT_ANSWERS: dict[str, TextAnswer] = {
    agenda.AWAIT_GROUP: text_for_group_question,
    agenda.AWAIT_TEXT: new_item_text,
    agenda.AWAIT_EDIT: edited_text,
    agenda.AWAIT_REASON: rejection_reason,
}

CALLBACKS: dict[type, Handler] = {
    p.ProposeItem: propose_pressed,
    p.ItemForGroup: group_pressed,
    p.OpenItem: open_pressed,
    p.ItemAction: action_pressed,
}


RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_notice for kind in ITEM_KINDS}
