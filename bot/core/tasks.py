"""Tasks (*Aufgaben*) from the minutes of a session (SPEC 13).

- Written in the minutes as one line `Aufgabe: <text> @<user> bis <date>`
  (also `#aufgabe`, `Task:`, `#task`; the user by @username or Telegram id as
  everywhere; the date as in SPEC 3, `until` works too): `parse_task_line`
  reads and checks it and gives a `TaskDraft`, `add_draft` stores it as a
  DRAFT task of one item of the minutes, `remove_drafts_of_item` deletes the
  drafts of an item when its text is sent again.
- A DRAFT task is seen by nobody but the coordination writing the minutes.
  When the minutes are approved, `publish` opens them: DRAFT → OPEN, and per
  task a TASK_ASSIGNED delivery (due now) and a TASK_DUE delivery at 09:00
  local time (TIMEZONE) two days before the due date; when that moment has
  passed already (a task due tomorrow), no reminder is planned: the
  assignment itself says when it is due.
- The timer skips (`screen_due`) a task message whose task is done, deleted
  or whose owner is gone, and a TASK_DUE of a task that is no longer open.
- "Erledigt" (`complete`): the owner or the coordination marks an OPEN task
  DONE with `done_at`; pressing again changes nothing and says so.
- `/tasks`: the person's OPEN tasks, due first first (`open_of`); a
  coordinator's `/tasks all` lists every OPEN task of all groups, `/tasks
  <group>` those of one group (`open_of_groups`).
- The agenda of a group's sessions shows the group's OPEN tasks ("Offene
  Aufgaben"); `open_tasks_of_groups` reads them for many groups in one query.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import audit
from bot.core.config import Settings
from bot.core.dates import local_datetime, parse_date
from bot.core.errors import Refusal
from bot.core.groups import resolve_group
from bot.core.membership import find_person, require_registered
from bot.core.people import is_coordinator
from bot.core.text import free_text
from storage.followup_models import Minutes, MinutesItem, Task, TaskStatus
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Group, Occurrence, Person
from storage.uow import UnitOfWork

TEXT_MAX = 1000
"""The longest task text."""

REMIND_DAYS_BEFORE = 2
REMIND_AT = time(9, 0)
"""A TASK_DUE reminder is due at 09:00 local time, two days before the due date."""

_PREFIX = re.compile(r"^\s*(?:#aufgabe|aufgabe\s*:|#task|task\s*:)\s*", re.IGNORECASE)
_DUE_WORD = re.compile(r"\s(?:bis|until|by)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class TaskDraft:
    """A task line as read from the minutes, checked, not stored yet."""

    text: str
    owner: Person
    due_on: date


async def parse_task_line(uow: UnitOfWork, line: str, today: date, tz: ZoneInfo) -> TaskDraft:
    """`Aufgabe: <text> @<user> bis <date>` (the prefix is optional): the text,
    the owner (a known person) and the due date (not in the past: `today` is the
    local date in `tz`). Refusals `tasks.*` name what is wrong, with an example."""
    body = _PREFIX.sub("", line, count=1).strip()
    matches = list(_DUE_WORD.finditer(f" {body}"))
    if not body:
        raise Refusal("tasks.missing_text", line=line.strip())
    if not matches:
        raise Refusal("tasks.missing_due", line=line.strip())
    split = matches[-1]
    head = f" {body}"[: split.start()].strip()
    due_text = f" {body}"[split.end() :].strip()
    if not due_text:
        raise Refusal("tasks.missing_due", line=line.strip())
    words = head.split()
    if not words:
        raise Refusal("tasks.missing_text", line=line.strip())
    if words[-1].startswith("@") or words[-1].isdigit():
        ref, rest = words[-1], words[:-1]
    else:  # "Aufgabe: @ana Flyer drucken bis …": the one @name anywhere
        named = [i for i, word in enumerate(words) if word.startswith("@")]
        if len(named) != 1:
            raise Refusal("tasks.missing_owner", line=line.strip())
        ref, rest = words[named[0]], words[: named[0]] + words[named[0] + 1 :]
    text = " ".join(rest).strip(" :,-")
    if not text:
        raise Refusal("tasks.missing_text", line=line.strip())
    try:
        owner = await find_person(uow, ref)
    except Refusal:
        raise Refusal("tasks.unknown_owner", ref=ref) from None
    if owner.telegram_id is None:
        raise Refusal("tasks.unknown_owner", ref=ref)
    try:
        due_on = parse_date(due_text, today)
    except Refusal:
        raise Refusal("tasks.bad_due", value=due_text) from None
    if due_on < today:
        raise Refusal("tasks.due_past", value=due_text)
    return TaskDraft(free_text(text, TEXT_MAX, "tasks.text"), owner, due_on)


async def add_draft(
    uow: UnitOfWork,
    draft: TaskDraft,
    group: Group,
    occurrence: Occurrence | None,
    item: MinutesItem | None,
    creator: Person,
    now: datetime,
) -> Task:
    """Store a checked task line as a DRAFT task of one item of the minutes."""
    task = Task(
        group_id=group.id,
        occurrence_id=occurrence.id if occurrence is not None else None,
        minutes_item_id=item.id if item is not None else None,
        text=draft.text,
        owner_id=draft.owner.id,
        due_on=draft.due_on,
        status=TaskStatus.DRAFT,
        created_by_id=creator.id,
        created_at=now,
    )
    uow.tasks.add(task)
    await uow.flush()
    return task


async def remove_drafts_of_item(uow: UnitOfWork, item_id: int) -> int:
    """Delete the DRAFT tasks of one item of the minutes (its text is replaced)."""
    return await uow.tasks.remove_drafts_of_item(item_id)


def reminder_at(due_on: date, tz: ZoneInfo) -> datetime:
    """When the reminder of a task due on `due_on` is due: 09:00 local time two
    days before (an aware datetime; the zone's offset of that day, so a clock
    change in between is respected)."""
    return local_datetime(due_on - timedelta(days=REMIND_DAYS_BEFORE), REMIND_AT, tz)


async def publish(uow: UnitOfWork, minutes: Minutes, now: datetime, settings: Settings) -> list[Task]:
    """The minutes were approved: their DRAFT tasks become OPEN, each owner is
    told (TASK_ASSIGNED, due now) and reminded (TASK_DUE, 09:00 local two days
    before the due date, unless that moment has passed)."""
    tasks = list(await uow.tasks.of_minutes(minutes.id, TaskStatus.DRAFT))
    rows: list[dict[str, object]] = []
    for task in tasks:
        task.status = TaskStatus.OPEN
        if task.owner_id is None:
            continue
        rows.append(_delivery(task, task.owner_id, DeliveryKind.TASK_ASSIGNED, now))
        remind = reminder_at(task.due_on, settings.timezone)
        if remind > now:
            rows.append(_delivery(task, task.owner_id, DeliveryKind.TASK_DUE, remind))
    await uow.flush()
    await uow.deliveries.insert_many(rows)
    return tasks


def _delivery(task: Task, person_id: int, kind: DeliveryKind, due: datetime) -> dict[str, object]:
    return {
        "task_id": task.id,
        "person_id": person_id,
        "kind": kind,
        "lead_seconds": 0,
        "revision": 0,
        "due_at": due,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
    }


async def screen_due(uow: UnitOfWork, rows: Sequence[Delivery]) -> dict[int, str]:
    """The reason to skip each due task message that must not go out (by delivery
    id): its task is gone or not open (done, or still a draft), or its owner
    changed or was forgotten."""
    tasks = await uow.tasks.by_ids(r.task_id for r in rows if r.task_id is not None)
    reasons: dict[int, str] = {}
    for row in rows:
        task = tasks.get(row.task_id or 0)
        if task is None:
            reasons[row.id] = "task gone"
        elif task.status is TaskStatus.DONE:
            reasons[row.id] = "task done"
        elif task.status is not TaskStatus.OPEN:
            reasons[row.id] = "task not open"
        elif task.owner_id != row.person_id:
            reasons[row.id] = "owner forgotten" if task.owner_id is None else "owner changed"
    return reasons


@dataclass(frozen=True)
class Completed:
    task: Task
    already: bool
    """It was done before this press: nothing changed."""


async def complete(uow: UnitOfWork, person: Person, task_id: int, settings: Settings, now: datetime) -> Completed:
    """ "Erledigt": the owner (or the coordination) marks an OPEN task done."""
    task = await uow.tasks.get(task_id)
    coordinator = is_coordinator(person, settings)
    if task is None or task.status is TaskStatus.DRAFT:
        raise Refusal("tasks.unknown")
    if task.owner_id != person.id and not coordinator:
        raise Refusal("tasks.not_yours")
    if task.status is TaskStatus.DONE:
        return Completed(task, already=True)
    task.status = TaskStatus.DONE
    task.done_at = now
    if task.owner_id != person.id:
        audit.record(uow, person, "task.done", "task", task.id, now, text=task.text)
    await uow.flush()
    return Completed(task, already=False)


async def task_of_delivery(uow: UnitOfWork, delivery_id: int, pending: dict[int, int]) -> int:
    """The task a due delivery is about (`pending`: the timer's map of delivery id
    to task id, read once per run)."""
    if task_id := pending.get(delivery_id):
        return task_id
    return (await uow.tasks.of_deliveries([delivery_id])).get(delivery_id, 0)


async def open_of(uow: UnitOfWork, person: Person) -> Sequence[Task]:
    """`/tasks`: the person's OPEN tasks, the one due first first."""
    return await uow.tasks.open_of_owner(person.id)


async def open_of_groups(
    uow: UnitOfWork, person: Person, settings: Settings, groups: Iterable[Group]
) -> Sequence[Task]:
    """`/tasks all` or `/tasks <group>` (coordination): the OPEN tasks of these groups."""
    if not is_coordinator(person, settings):
        raise Refusal("errors.coordinators_only")
    return await uow.tasks.open_of_groups(g.id for g in groups)


async def open_tasks_of_groups(uow: UnitOfWork, group_ids: Iterable[int]) -> dict[int, list[Task]]:
    """The OPEN tasks of each of these groups (one query for all), due first first."""
    by_group: dict[int, list[Task]] = defaultdict(list)
    for task in await uow.tasks.open_of_groups(group_ids):
        by_group[task.group_id].append(task)
    return dict(by_group)


async def sessions_of(uow: UnitOfWork, tasks: Iterable[Task]) -> dict[int, Occurrence]:
    """The sessions these tasks came from, by id."""
    return await uow.tasks.sessions(t.occurrence_id for t in tasks if t.occurrence_id is not None)


@dataclass(frozen=True)
class Listing:
    """What `/tasks` shows: `scope` "me" (the person's own), "all" (every group's,
    coordination) or "g<id>" (one group's, coordination); it is kept in the
    buttons, so that a press shows the same list again."""

    scope: str
    tasks: Sequence[Task]
    sessions: dict[int, Occurrence]
    group: Group | None = None


ALL_WORDS = ("all", "alle")


async def listing(uow: UnitOfWork, person: Person, settings: Settings, argument: str) -> Listing:
    """`/tasks` (own), `/tasks all` or `/tasks <group>` (coordination)."""
    word = argument.strip()
    if not is_coordinator(person, settings):
        require_registered(person)
    if not word:
        return await listing_of(uow, person, settings, "me")
    if not is_coordinator(person, settings):
        raise Refusal("errors.coordinators_only")
    if word.casefold() in ALL_WORDS:
        return await listing_of(uow, person, settings, "all")
    try:
        group = resolve_group(await uow.groups.including_archived(), word)
    except Refusal:
        raise Refusal("tasks.unknown_group", text=word) from None
    return await listing_of(uow, person, settings, f"g{group.id}")


async def listing_of(uow: UnitOfWork, person: Person, settings: Settings, scope: str) -> Listing:
    """The list of one scope (see `Listing`); a stale or forged scope is refused."""
    group = None
    if scope == "me":
        tasks = await uow.tasks.open_of_owner(person.id)
    else:
        if not is_coordinator(person, settings):
            raise Refusal("errors.coordinators_only")
        if scope == "all":
            groups = await uow.groups.including_archived()
        elif scope.startswith("g") and scope[1:].isdigit():
            group = await uow.groups.get(int(scope[1:]))
            if group is None:
                raise Refusal("buttons.stale")
            groups = [group]
        else:
            raise Refusal("buttons.stale")
        tasks = await uow.tasks.open_of_groups(g.id for g in groups)
    return Listing(scope, tasks, await sessions_of(uow, tasks), group)
