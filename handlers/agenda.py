"""Agenda handlers: /agenda and the item buttons (how an agenda looks:
`handlers.agenda_messages`).

- `/agenda` without text lists the agendas of the caller's groups, with a
  button per item the caller may open and "Thema vorschlagen".
- `/agenda [group] text` proposes an item; the reply says where it went.
  With several groups and none named, the bot holds the text and asks with
  group buttons.
- The card shows the item and only the buttons the person may use; after a
  press the card is redrawn with the new state. Edit and reject ask for a text.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import agenda, tasks
from bot.core.agenda import AskGroup, AskText, Decision, ItemView, Overview, Placement
from bot.core.commands import by_name
from bot.core.dates import format_when
from bot.core.errors import Refusal
from bot.core.steps import Step
from bot.render.texts import Html
from handlers import payloads as p
from handlers.agenda_messages import OpenTasks, author_name, render_overview, when
from handlers.agenda_messages import card as item_card
from handlers.common import Handler, Request, Rows, action, render
from handlers.registration import TextAnswer
from storage.models import AGENDA_TEXT_MAX, REASON_MAX

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
    outcome = await agenda.command(await request.uow(), await request.person(), rest, request.settings, request.now())
    if isinstance(outcome, Overview):
        await show_overview(request, outcome)
    elif isinstance(outcome, AskGroup):
        await ask_group(request, outcome, held=True)
    else:
        await confirm_placement(request, outcome)


async def show_overview(request: Request, overview: Overview) -> None:
    open_tasks = await open_tasks_by_group(request, overview)
    for text, rows in render_overview(request.runtime.texts, request.lang, overview, open_tasks):
        await request.reply(text, rows)


async def open_tasks_by_group(request: Request, overview: Overview) -> dict[int, OpenTasks]:
    """The open tasks of the groups shown (one query for all), under each group's sessions."""
    group_ids = [section.group.id for section in overview.groups]
    found = await tasks.open_tasks_of_groups(await request.uow(), group_ids)
    today = request.now().astimezone(request.settings.timezone).date()
    return {group_id: OpenTasks(found.get(group_id, []), today) for group_id in group_ids}


async def confirm_placement(request: Request, placement: Placement) -> None:
    """Where the new item went, with its id, and the author's buttons. After the
    agenda deadline the reply says the item is late (*nachgereicht*) and that the
    coordination decides; the coordinators get the item with their buttons."""
    item, session = placement.item, placement.session
    text = request.t("agenda.saved", id=item.id, text=item.text)
    if session is not None:
        on = {"session": session.id, "title": session.meeting.title, "when": when(request.lang, session)}
        where = request.t("agenda.placed", number=placement.number, **on)
        if placement.deadline is not None:
            deadline = format_when(placement.deadline, ZoneInfo(session.meeting.timezone), request.lang)
            where = request.t("agenda.late_placed", number=placement.number, deadline=deadline, **on)
            await tell_coordinators(request, placement)
    else:
        where = request.t("agenda.placed_waiting", group=item.group.name)
    await request.reply(
        text + "\n\n" + where,
        [
            [
                (request.label("agenda.edit_button"), p.ItemAction(item.id, "edit")),
                (request.label("agenda.withdraw_button"), p.ItemAction(item.id, "withdraw")),
            ]
        ],
    )


async def tell_coordinators(request: Request, placement: Placement) -> None:
    """A late item: each coordinator gets its card with the buttons to accept or defer it."""
    session = placement.session
    if placement.decide is None or placement.deadline is None or session is None:
        return
    texts = request.runtime.texts
    for chat_id in placement.coordinators:
        lang = await request.language_of(chat_id)
        deadline = format_when(placement.deadline, ZoneInfo(session.meeting.timezone), lang)
        body, rows = item_card(texts, lang, placement.decide)
        head = render(texts, lang, "agenda.late_for_coordinators", deadline=deadline)
        await request.notify(chat_id, Html(head + "\n\n" + body), rows)


async def ask_group(request: Request, asked: AskGroup, held: bool) -> None:
    key = "agenda.ask_group" if held else "agenda.choose_group"
    await request.reply(request.t(key), [[(g.name, p.ItemForGroup(g.id))] for g in asked.groups])


async def ask_text(request: Request, asked: AskText) -> None:
    await request.reply(request.t("agenda.ask_text", group=asked.group.name, max=AGENDA_TEXT_MAX))


# --- buttons -----------------------------------------------------------------------


async def propose_pressed(request: Request) -> None:
    """ "Thema vorschlagen": ask for the group, or for the text."""
    assert isinstance(request.payload, p.ProposeItem)
    asked = await agenda.start_proposal(
        await request.uow(), await request.person(), request.payload.group_id, request.settings
    )
    await request.answer()
    if isinstance(asked, AskGroup):
        await ask_group(request, asked, held=False)
    else:
        await ask_text(request, asked)


async def group_pressed(request: Request) -> None:
    """A group chosen for a new item: save the held text there, or ask for it."""
    assert isinstance(request.payload, p.ItemForGroup)
    outcome = await agenda.choose_group(
        await request.uow(), await request.person(), request.payload.group_id, request.settings, request.now()
    )
    await request.answer()
    await request.edit(rows=())
    if isinstance(outcome, AskText):
        await ask_text(request, outcome)
    else:
        await confirm_placement(request, outcome)


async def open_pressed(request: Request) -> None:
    """An item's button under an agenda: its card."""
    assert isinstance(request.payload, p.OpenItem)
    view = await agenda.open_item(
        await request.uow(), await request.person(), request.payload.item_id, request.settings, request.now()
    )
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
    uow, me = await request.uow(), await request.person()
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
    """An item's card for the caller."""
    return item_card(request.runtime.texts, request.lang, view)


# --- answers to the bot's questions -------------------------------------------------------


async def text_for_group_question(request: Request, text: str) -> None:
    """A text while the bot asks for the group: the item's text; the group is still asked."""
    outcome = await agenda.hold_text(await request.uow(), await request.person(), text, request.settings, request.now())
    if isinstance(outcome, AskGroup):
        await ask_group(request, outcome, held=True)
    else:
        await confirm_placement(request, outcome)


async def new_item_text(request: Request, text: str) -> None:
    placement = await agenda.submit_text(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    await confirm_placement(request, placement)


async def edited_text(request: Request, text: str) -> None:
    decision = await agenda.submit_edit(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
    reply: str = request.t("agenda.edited", id=decision.view.item.id)
    if decision.reopened:
        reply += "\n" + request.t("agenda.reopened")
    body, rows = card(request, decision.view)
    await request.reply(reply + "\n\n" + body, rows)


async def rejection_reason(request: Request, text: str) -> None:
    decision = await agenda.submit_reason(
        await request.uow(), await request.person(), text, request.settings, request.now()
    )
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


TEXT_ANSWERS: dict[Step, TextAnswer] = {
    Step.AGENDA_GROUP: text_for_group_question,
    Step.AGENDA_TEXT: new_item_text,
    Step.AGENDA_EDIT: edited_text,
    Step.AGENDA_REASON: rejection_reason,
}

CALLBACKS: dict[type, Handler] = {
    p.ProposeItem: propose_pressed,
    p.ItemForGroup: group_pressed,
    p.OpenItem: open_pressed,
    p.ItemAction: action_pressed,
}
