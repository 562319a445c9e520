"""Task handlers: /tasks (alias /aufgaben), the "Erledigt" button, and the
messages the delivery timer sends about a task (SPEC 13).

- `/tasks`: the caller's open tasks, the one due first first, each with its
  group, session and due date (overdue marked), and a numbered "Erledigt"
  button per task; none: a friendly line. A coordinator's `/tasks all` lists
  the open tasks of every group, `/tasks <group>` those of one group, with
  the owner's name. The rules are in `bot.core.tasks`.
- "Erledigt" under a task's message shows the task as done ("✓ Erledigt am
  …"); under a list it shows the list again, without the task, and says which
  task is done. Pressing again changes nothing.
- The timer sends the new task (TASK_ASSIGNED) and the reminder two days
  before it is due (TASK_DUE), each with "Erledigt".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.core import people
from bot.core import tasks as core
from bot.core.commands import by_name
from bot.core.dates import format_date
from bot.core.errors import Refusal
from bot.core.reminders import Due
from bot.render.texts import Html, Texts
from bot.render.units import one_line, visible_length
from handlers import followup_payloads as fp
from handlers import payloads as p
from handlers.agenda import after_command
from handlers.common import Handler, Request, Rows, Runtime, action
from handlers.outbox import Batch, Message, Part, Renderer
from storage.followup_models import Task
from storage.models import TASK_KINDS, DeliveryKind, Occurrence
from storage.uow import UnitOfWork

LIST_ITEMS = 30
"""At most this many tasks in one /tasks message (each with its button)."""
LIST_TEXT = 120
"""A task's text in a list is cut to this many units (as Telegram counts)."""
LIST_BUDGET = 3600
"""What the lines of a list may take, in units after parsing (a message holds 4,096)."""
BUTTON_TEXT = 24


def local_day(runtime: Runtime, moment: datetime) -> date:
    return moment.astimezone(runtime.settings.timezone).date()


def session_date(lang: str, occurrence: Occurrence) -> str:
    """The local date a session was held on."""
    return format_date(occurrence.starts_at.astimezone(ZoneInfo(occurrence.meeting.timezone)).date(), lang)


def owner_name(texts: Texts, lang: str, task: Task) -> str:
    """The owner as others see them; "ehemaliges Mitglied" after /forget."""
    if task.owner is None or task.owner.telegram_id is None:
        return texts.plain(lang, "tasks.former_member")
    return people.name_of(task.owner)


def session_words(texts: Texts, lang: str, task: Task, occurrence: Occurrence | None) -> str | None:
    """`Auftakt (AK EU) am Do., 10.12.2026, 14:00 Uhr`; None without a session."""
    if occurrence is None:
        return None
    return texts.plain(
        lang,
        "tasks.session",
        title=occurrence.meeting.title,
        group=task.group.name,
        date=session_date(lang, occurrence),
    )


def task_card(texts: Texts, lang: str, task: Task, occurrence: Occurrence | None) -> Html:
    """One task as its messages show it, with "✓ Erledigt am …" once done."""
    due = format_date(task.due_on, lang)
    session = session_words(texts, lang, task, occurrence)
    if session is None:
        text = texts.get(lang, "tasks.card_no_session", group=task.group.name, text=task.text, due=due)
    else:
        text = texts.get(lang, "tasks.card", session=session, text=task.text, due=due)
    return text


def done_button(texts: Texts, lang: str, task: Task) -> Rows:
    return [[(texts.plain(lang, "tasks.done_button"), fp.TaskDone(task.id, "one"))]]


# --- /tasks ------------------------------------------------------------------------


@action
async def tasks_command(request: Request) -> None:
    """`/tasks`, `/tasks all`, `/tasks <group>`."""
    message = request.update.effective_message
    rest = after_command(message.text or "") if message else ""
    listing = await core.listing(await request.uow(), await request.person(), request.settings, rest)
    text, rows = render_listing(request, listing)
    await request.reply(text, rows)


def render_listing(request: Request, listing: core.Listing, done: Task | None = None) -> tuple[Html, Rows]:
    """The list as one message with a numbered button per task (`done`: the task
    just marked done, named on top)."""
    texts, lang = request.runtime.texts, request.lang
    today = local_day(request.runtime, request.now())
    others = listing.scope != "me"
    lines: list[str] = []
    if done is not None and done.done_at is not None:
        lines.append(
            texts.get(
                lang,
                "tasks.list_done",
                date=format_date(local_day(request.runtime, done.done_at), lang),
                text=one_line(done.text, LIST_TEXT),
            )
        )
    if not listing.tasks:
        if listing.scope == "me":
            lines.append(texts.get(lang, "tasks.none"))
        elif listing.group is not None:
            lines.append(texts.get(lang, "tasks.group_none", group=listing.group.name))
        else:
            lines.append(texts.get(lang, "tasks.all_none"))
        return Html("\n\n".join(lines)), ()
    if listing.scope == "me":
        lines.append(texts.get(lang, "tasks.list_title"))
    elif listing.group is not None:
        lines.append(texts.get(lang, "tasks.group_title", group=listing.group.name))
    else:
        lines.append(texts.get(lang, "tasks.all_title"))
    used = sum(visible_length(line) for line in lines)
    entries: list[str] = []
    rows: list[Sequence[tuple[str, p.Payload]]] = []
    for number, task in enumerate(listing.tasks, 1):
        line = _list_line(texts, lang, number, task, listing.sessions.get(task.occurrence_id or 0), others)
        if task.due_on < today:
            line = Html(line + texts.get(lang, "tasks.overdue"))
        if number > LIST_ITEMS or used + visible_length(line) + 1 > LIST_BUDGET:
            entries.append(texts.get(lang, "tasks.more", count=len(listing.tasks) - number + 1))
            break
        entries.append(line)
        used += visible_length(line) + 1
        label = texts.plain(lang, "tasks.list_button", number=number, text=one_line(task.text, BUTTON_TEXT))
        rows.append([(label, fp.TaskDone(task.id, listing.scope))])
    lines.append("\n".join(entries))
    lines.append(texts.get(lang, "tasks.list_hint"))
    return Html("\n\n".join(lines)), rows


def _list_line(texts: Texts, lang: str, number: int, task: Task, occurrence: Occurrence | None, others: bool) -> Html:
    params: dict[str, object] = {
        "number": number,
        "text": one_line(task.text, LIST_TEXT),
        "group": task.group.name,
        "due": format_date(task.due_on, lang),
    }
    key = "tasks.line_owner" if others else "tasks.line"
    if others:
        params["owner"] = owner_name(texts, lang, task)
    if occurrence is None:
        return texts.get(lang, f"{key}_no_session", **params)
    return texts.get(lang, key, session=f"{occurrence.meeting.title}, {session_date(lang, occurrence)}", **params)


# --- "Erledigt" --------------------------------------------------------------------


async def done_pressed(request: Request) -> None:
    """ "Erledigt": the task is done; its message (or the list) shows it."""
    assert isinstance(request.payload, fp.TaskDone)
    uow, me = await request.uow(), await request.person()
    view = request.payload.view
    if view != "one" and view != "me" and view != "all" and not (view.startswith("g") and view[1:].isdigit()):
        raise Refusal("buttons.stale")
    done = await core.complete(uow, me, request.payload.task_id, request.settings, request.now())
    task = done.task
    assert task.done_at is not None
    day = format_date(local_day(request.runtime, task.done_at), request.lang)
    if done.already:
        await request.answer(request.label("tasks.already_done", date=day))
    else:
        await request.answer(request.label("tasks.done_toast"))
    if view == "one":
        sessions = await core.sessions_of(uow, [task])
        card = task_card(request.runtime.texts, request.lang, task, sessions.get(task.occurrence_id or 0))
        await request.edit(Html(card + "\n\n" + request.t("tasks.done_line", date=day)), ())
    else:
        listing = await core.listing_of(uow, me, request.settings, view)
        await request.edit(*render_listing(request, listing, task))


# --- what the delivery timer sends -------------------------------------------------


async def render_task(runtime: Runtime, uow: UnitOfWork, item: Due, lang: str, batch: Batch) -> list[Part]:
    """A new task for its owner, or the reminder two days before it is due."""
    now = runtime.clock()
    pending = await batch.memo(("task-deliveries",), lambda: uow.tasks.pending_deliveries(now))
    task_id = await core.task_of_delivery(uow, item.delivery_id, pending)
    shown = await batch.memo(("tasks", "shown"), lambda: uow.tasks.by_ids(pending.values()))
    task = shown.get(task_id) or await uow.tasks.get(task_id)
    texts = runtime.texts
    if task is None:
        return [Message(texts.get(lang, "tasks.gone"))]
    ids = {t.occurrence_id for t in shown.values() if t.occurrence_id is not None}
    sessions = await batch.memo(("tasks", "sessions"), lambda: uow.tasks.sessions(ids))
    occurrence = sessions.get(task.occurrence_id or 0)
    if occurrence is None and task.occurrence_id is not None:
        occurrence = (await uow.tasks.sessions([task.occurrence_id])).get(task.occurrence_id)
    session = session_words(texts, lang, task, occurrence)
    due = format_date(task.due_on, lang)
    base = "tasks.assigned" if item.kind is DeliveryKind.TASK_ASSIGNED else "tasks.reminder"
    if session is None:
        text = texts.get(lang, f"{base}_no_session", group=task.group.name, text=task.text, due=due)
    else:
        text = texts.get(lang, base, session=session, text=task.text, due=due)
    return [Message(text, done_button(texts, lang, task))]


RENDERERS: dict[DeliveryKind, Renderer] = {kind: render_task for kind in TASK_KINDS}


def handlers() -> list[BaseHandler]:
    command = by_name("tasks")
    assert command is not None
    return [CommandHandler([command.name, *command.aliases], tasks_command, filters=filters.ChatType.PRIVATE)]


CALLBACKS: dict[type, Handler] = {fp.TaskDone: done_pressed}
