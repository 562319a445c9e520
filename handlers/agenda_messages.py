"""How an agenda looks in a message: the /agenda overview, an item's card,
the agenda inside reminders, and the notes to an item's author.

- The overview lists, per group of the caller, the session running now (if
  any) and the next one with their numbered agendas (`1. text — Author (#31)
  ✓ angenommen`), or the items waiting for a session, with one button per
  item the caller may open (their own items; a coordinator every item) and
  "Thema vorschlagen". A long list is split into several messages at item
  boundaries, each under Telegram's limit as Telegram counts it
  (`bot.render.units.pack`).
- The card shows the item and only the buttons the person may use.
- In reminders the agenda is shortened (`BLOCK_ITEMS` items of at most
  `BLOCK_TEXT` units, "… und N weitere: /agenda"), so a reminder stays
  within one message whatever the members proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.core import agenda_queries, people, tasks
from bot.core.agenda import ItemView, Overview
from bot.core.dates import format_date, format_when
from bot.core.reminders import Due
from bot.render.texts import Html, Texts
from bot.render.units import Piece, one_line, pack, visible_length
from handlers import payloads as p
from handlers.common import Rows, Runtime
from handlers.outbox import Batch, Message, Part, Renderer
from storage.followup_models import Task
from storage.models import ITEM_KINDS, AgendaItem, AgendaStatus, DeliveryKind, Occurrence
from storage.uow import UnitOfWork

BLOCK_ITEMS = 10
"""At most this many items of an agenda inside a reminder."""
BLOCK_TEXT = 150
"""An item's text inside a reminder is cut to this many units (as Telegram counts)."""
BLOCK_BUDGET = 2400
"""What the agenda may take in a reminder, in UTF-16 code units after parsing (as
Telegram counts): the rest of the message (the session card with title and place
at their maximum, headers, the call for agenda items, the question) stays below
1,600, the whole below 4,096."""
BUTTON_TEXT = 24
"""Units of an item's text on its button."""
ITEM_BUTTONS = 40
"""Item buttons per message (Telegram allows 100 buttons)."""


def author_name(texts: Texts, lang: str, item: AgendaItem) -> str:
    """The author as others see them; "ehemaliges Mitglied" after /forget."""
    author = item.author
    if author is None or author.telegram_id is None:
        return texts.plain(lang, "agenda.former_member")
    return people.name_of(author)


def item_line(texts: Texts, lang: str, number: int, item: AgendaItem, maximum: int | None = None) -> Html:
    """`1. text — Author (#31) ✓ angenommen`; a late item `⏰ nachgereicht` (SPEC 5)."""
    key = "agenda.line_accepted" if item.status is AgendaStatus.ACCEPTED else "agenda.line"
    if item.late:
        key = "agenda.line_accepted_late" if item.status is AgendaStatus.ACCEPTED else "agenda.line_late"
    text = one_line(item.text, maximum) if maximum else item.text
    return texts.get(lang, key, number=number, text=text, author=author_name(texts, lang, item), id=item.id)


def when(lang: str, occurrence: Occurrence) -> str:
    return format_when(occurrence.starts_at, ZoneInfo(occurrence.meeting.timezone), lang)


# --- the agenda inside reminders and invitations ------------------------------------------


def agenda_block(texts: Texts, lang: str, items: Sequence[AgendaItem], open_tasks: OpenTasks | None = None) -> Html:
    """A session's agenda inside a reminder: numbered, short enough for any message;
    then the group's open tasks ("Offene Aufgaben"), within the same budget."""
    block = tasks_block(texts, lang, open_tasks) if open_tasks is not None else None
    if not items:
        empty = texts.get(lang, "agenda.block_empty")
        return Html(empty + "\n\n" + block) if block else empty
    lines = [texts.get(lang, "agenda.block_title")]
    used = visible_length(lines[0]) + (visible_length(block) + 2 if block else 0)
    for number, item in enumerate(items, 1):
        line = item_line(texts, lang, number, item, BLOCK_TEXT)
        if number > BLOCK_ITEMS or used + visible_length(line) + 1 > BLOCK_BUDGET:
            lines.append(texts.get(lang, "agenda.block_more", count=len(items) - number + 1))
            break
        lines.append(line)
        used += visible_length(line) + 1
    if block:
        lines.append(Html("\n" + block))
    return Html("\n".join(lines))


# --- the group's open tasks under an agenda (SPEC 13) ----------------------------------------

TASK_ITEMS = 5
"""At most this many open tasks under an agenda."""
TASK_TEXT = 80
"""A task's text under an agenda is cut to this many units. The block counts against
the agenda's `BLOCK_BUDGET` (fewer agenda items are shown), so a reminder still fits."""


@dataclass(frozen=True)
class OpenTasks:
    """A group's open tasks, and the local date (to mark what is overdue)."""

    tasks: Sequence[Task]
    today: date


async def open_tasks_of(runtime: Runtime, uow: UnitOfWork, batch: Batch, group_id: int) -> OpenTasks:
    """The group's open tasks, read once per timer run for all messages of the group."""
    found = await batch.memo(("open-tasks", group_id), lambda: tasks.open_tasks_of_groups(uow, [group_id]))
    return OpenTasks(found.get(group_id, []), runtime.clock().astimezone(runtime.settings.timezone).date())


def tasks_block(texts: Texts, lang: str, open_tasks: OpenTasks) -> Html | None:
    """ "Offene Aufgaben:" with each task's owner and due date; None without any."""
    if not open_tasks.tasks:
        return None
    lines = [texts.get(lang, "tasks.block_title")]
    for number, task in enumerate(open_tasks.tasks, 1):
        if number > TASK_ITEMS:
            lines.append(texts.get(lang, "tasks.block_more", count=len(open_tasks.tasks) - number + 1))
            break
        owner = task.owner
        name = people.name_of(owner) if owner is not None and owner.telegram_id is not None else None
        line = texts.get(
            lang,
            "tasks.block_line",
            text=one_line(task.text, TASK_TEXT),
            owner=name or texts.plain(lang, "tasks.former_member"),
            due=format_date(task.due_on, lang),
        )
        if task.due_on < open_tasks.today:
            line = Html(line + texts.get(lang, "tasks.overdue"))
        lines.append(line)
    return Html("\n".join(lines))


async def render_notice(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """The note to an item's author (rejected with the reason, deferred)."""
    texts = runtime.texts
    found = await agenda_queries.noted_item(uow, item.agenda_item_id)
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


RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_notice for kind in ITEM_KINDS}


# --- /agenda -------------------------------------------------------------------------------


def render_overview(
    texts: Texts, lang: str, overview: Overview, open_tasks: dict[int, OpenTasks] | None = None
) -> list[tuple[Html, Rows]]:
    """The agendas as messages, split at item boundaries, each with the buttons of its
    items; under a group's sessions its open tasks (`open_tasks` by group id)."""
    pieces: list[Piece[tuple[str, p.Payload]]] = []

    def add(line: Html, item: AgendaItem | None = None) -> None:
        button = None
        if item is not None and overview.may_open(item):
            label = texts.plain(lang, "agenda.item_button", id=item.id, text=one_line(item.text, BUTTON_TEXT))
            button = (label, p.OpenItem(item.id))
        pieces.append(Piece(line, extra=button))

    for section in overview.groups:
        if pieces:
            add(Html(""))
        add(texts.get(lang, "agenda.group_title", group=section.group.name))
        if not section.sessions:
            add(texts.get(lang, "agenda.no_session"))
        for session in section.sessions:
            occurrence = session.occurrence
            add(
                texts.get(
                    lang,
                    "agenda.session",
                    id=occurrence.id,
                    title=occurrence.meeting.title,
                    when=when(lang, occurrence),
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
        if open_tasks and (block := tasks_block(texts, lang, open_tasks[section.group.id])):
            add(block)
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
    messages: list[tuple[Html, Rows]] = [
        (text, [[button] for button in buttons]) for text, buttons in pack(pieces, most_extras=ITEM_BUTTONS)
    ]
    text, rows = messages[-1]
    messages[-1] = (text, [*rows, [propose]])
    return messages


def card(texts: Texts, lang: str, view: ItemView) -> tuple[Html, Rows]:
    """An item with its state and place, and the buttons this person may use."""
    item = view.item
    lines = [
        texts.get(lang, "agenda.card_title", id=item.id, group=item.group.name),
        texts.get(lang, "agenda.card_text", text=item.text),
        texts.get(lang, "agenda.card_author", author=author_name(texts, lang, item)),
        texts.get(lang, "agenda.card_state", state=texts.get(lang, f"agenda.state_{item.status.value}")),
    ]
    if item.status is AgendaStatus.REJECTED and item.reason:
        lines.append(texts.get(lang, "agenda.card_reason", reason=item.reason))
    if item.late:
        lines.append(texts.get(lang, "agenda.card_late"))
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
            texts.get(
                lang,
                "agenda.card_was_session",
                session=session.id,
                title=session.meeting.title,
                when=when(lang, session),
            )
        )
    elif view.number is not None:
        lines.append(texts.get(lang, "agenda.card_waiting", number=view.number, count=view.count))
    rows: list[Sequence[tuple[str, p.Payload]]] = []
    if view.may_edit:
        rows.append(
            [
                (texts.plain(lang, "agenda.edit_button"), p.ItemAction(item.id, "edit")),
                (texts.plain(lang, "agenda.withdraw_button"), p.ItemAction(item.id, "withdraw")),
            ]
        )
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
