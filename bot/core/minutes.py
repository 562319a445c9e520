"""Minutes (*Ergebnisprotokoll*, SPEC 13): written by the coordination item by
item, circulated to those present for corrections, approved and locked.

- `/minutes <id>` (coordination; without id: the sessions held in the last
  `RECENT` days as buttons). A session that has not started (or was
  cancelled) has no minutes. The first call creates the draft with one item
  per ACCEPTED agenda item of the session, in agenda order (audit
  `minutes.create`), and walks through them: "TOP 2 von 4: <title>", the
  result asked in ONE message. In it, lines beginning `Beschluss:` or
  `#beschluss` (`Decision:`, `#decision`) are decisions, lines beginning
  `Aufgabe:` or `#aufgabe` (`Task:`, `#task`) are tasks, read and checked by
  `bot.core.tasks.parse_task_line`; the rest is the result text. Sending an
  item's text again replaces its result, decisions and draft tasks; a
  refused line (an unknown user, a date in the past) stores nothing of the
  message. "Überspringen", "Zurück" and "Punkt hinzufügen" (a title, then its
  result) move through the walk; after the last item comes the overview.
  `/minutes <id>` again resumes at the first item without a result.
- The overview's "Zur Korrektur senden" (`bot.core.minutes_review`): status
  REVIEW, and the draft goes to everyone recorded PRESENT at the session (to
  the deputy, for a member represented by one), the coordination excepted.
  The coordination may still edit during the review.
- "Freigeben", confirmed: APPROVED and locked; every edit path is refused
  (`minutes.locked`), `/minutes <id>` shows them and sends the document again.
- A session's minutes and everything in them are read for a message or a
  document through `record_of`; the report reads the approved ones through
  `approved_between`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import audit, steps, tasks
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import name_of, require_coordinator
from bot.core.steps import Step
from bot.core.text import field_text, free_text
from storage.followup_models import (
    Attendance,
    AttendanceStatus,
    Minutes,
    MinutesCorrection,
    MinutesDecision,
    MinutesItem,
    MinutesStatus,
    Task,
)
from storage.models import Occurrence, OccurrenceStatus, Person
from storage.uow import UnitOfWork

RECENT = timedelta(days=90)
"""The guided `/minutes` offers the sessions held this long ago at most."""
RESULT_MAX = 4000
TITLE_MAX = 300
DECISION_MAX = 1000

_DECISION = re.compile(r"^\s*(?:#beschluss\b\s*:?|beschluss\s*:|#decision\b\s*:?|decision\s*:)\s*", re.IGNORECASE)
_TASK = re.compile(r"^\s*(?:#aufgabe\b|aufgabe\s*:|#task\b|task\s*:)", re.IGNORECASE)


@dataclass(frozen=True)
class Attendee:
    """Someone in the minutes' lists of who was there (or excused)."""

    name: str | None
    """None: a former member (their data was erased)."""
    organisation: str | None
    guest: bool = False
    deputy: str | None = None
    """Who attended in the member's place."""


@dataclass
class Record:
    """What the minutes say, for the overview, the messages and the document."""

    minutes: Minutes
    occurrence: Occurrence
    items: list[MinutesItem]
    tasks: dict[int, list[Task]] = field(default_factory=dict)
    """The tasks of each item, by item id."""
    present: list[Attendee] = field(default_factory=list)
    excused: list[Attendee] = field(default_factory=list)
    corrections: list[MinutesCorrection] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return self.minutes.status is MinutesStatus.APPROVED


@dataclass
class Walk:
    """One item of the minutes, shown for its result."""

    minutes: Minutes
    occurrence: Occurrence
    index: int
    """0-based place among the items."""
    item: MinutesItem
    tasks: list[Task]

    @property
    def count(self) -> int:
        return len(self.minutes.items)


def local_text(moment: datetime, settings: Settings) -> str:
    """`03.12.2026, 14:00` in TIMEZONE, for a refusal's text."""
    return f"{moment.astimezone(settings.timezone):%d.%m.%Y, %H:%M}"


@dataclass
class Opened:
    """What `/minutes <id>` shows: the walk, or the overview (`record`)."""

    minutes: Minutes
    walk: Walk | None
    record: Record | None
    created: bool = False


async def choices(uow: UnitOfWork, coordinator: Person, settings: Settings, now: datetime) -> list[Occurrence]:
    """The guided `/minutes`: the sessions held lately, latest first."""
    require_coordinator(coordinator, settings)
    return list(await uow.minutes.held_sessions(now - RECENT, now))


async def open_session(
    uow: UnitOfWork, coordinator: Person, occurrence_id: int, settings: Settings, now: datetime
) -> Opened:
    """`/minutes <id>`: create the draft on the first call, then walk or show the overview."""
    require_coordinator(coordinator, settings)
    occurrence = await uow.meetings.occurrence(occurrence_id)
    if occurrence is None:
        raise Refusal("minutes.unknown_session", id=occurrence_id)
    minutes = await uow.minutes.of_session(occurrence_id)
    created = False
    if minutes is None:
        if occurrence.status is OccurrenceStatus.CANCELLED:
            raise Refusal("minutes.cancelled", id=occurrence_id)
        if occurrence.starts_at > now:
            raise Refusal("minutes.not_started", id=occurrence_id, when=local_text(occurrence.starts_at, settings))
        minutes = await _create(uow, coordinator, occurrence, now)
        created = True
    if minutes.status is MinutesStatus.DRAFT:
        index = next((i for i, item in enumerate(minutes.items) if item.result is None and not item.decisions), None)
        if index is not None:
            return Opened(minutes, await _walk(uow, coordinator, minutes, index), None, created)
    steps.end(coordinator)
    await uow.flush()
    return Opened(minutes, None, await record_of(uow, minutes), created)


async def _create(uow: UnitOfWork, coordinator: Person, occurrence: Occurrence, now: datetime) -> Minutes:
    agenda = await uow.minutes.accepted_items(occurrence.id)
    minutes = Minutes(
        occurrence=occurrence,
        status=MinutesStatus.DRAFT,
        created_by_id=coordinator.id,
        created_at=now,
        items=[
            MinutesItem(agenda_item_id=a.id, title=a.text, position=number, decisions=[])
            for number, a in enumerate(agenda, 1)
        ],
    )
    uow.minutes.add(minutes)
    await uow.flush()
    audit.record(
        uow,
        coordinator,
        "minutes.create",
        "session",
        occurrence.id,
        now,
        title=occurrence.meeting.title,
        items=len(agenda),
    )
    return minutes


async def _walk(uow: UnitOfWork, coordinator: Person, minutes: Minutes, index: int) -> Walk:
    item = minutes.items[index]
    steps.ask(coordinator, Step.MINUTES_RESULT, {"minutes": minutes.id, "item": item.id})
    await uow.flush()
    return Walk(minutes, minutes.occurrence, index, item, list(await uow.minutes.tasks_of([item.id])))


async def editable(uow: UnitOfWork, coordinator: Person, minutes_id: int, settings: Settings) -> Minutes:
    """Minutes the coordination may still change (not approved)."""
    require_coordinator(coordinator, settings)
    minutes = await uow.minutes.get(minutes_id)
    if minutes is None:
        raise Refusal("buttons.stale")
    if minutes.status is MinutesStatus.APPROVED:
        raise Refusal("minutes.locked", id=minutes.occurrence_id).ending_step()
    return minutes


async def go(uow: UnitOfWork, coordinator: Person, minutes_id: int, index: int, settings: Settings) -> Walk | Record:
    """ "Überspringen", "Zurück", "Bearbeiten": the item at `index`; past the last one, the overview."""
    minutes = await editable(uow, coordinator, minutes_id, settings)
    if 0 <= index < len(minutes.items):
        return await _walk(uow, coordinator, minutes, index)
    steps.end(coordinator)
    await uow.flush()
    return await record_of(uow, minutes)


@dataclass(frozen=True)
class Parsed:
    result: str | None
    decisions: list[str]
    tasks: list[tasks.TaskDraft]


async def parse_result(uow: UnitOfWork, text: str, settings: Settings, now: datetime) -> Parsed:
    """One message with an item's result: decisions, tasks (checked) and the rest."""
    today = now.astimezone(settings.timezone).date()
    rest: list[str] = []
    decisions: list[str] = []
    drafts: list[tasks.TaskDraft] = []
    for line in text.splitlines():
        if match := _DECISION.match(line):
            decisions.append(free_text(line[match.end() :], DECISION_MAX, "minutes.decision"))
        elif _TASK.match(line):
            drafts.append(await tasks.parse_task_line(uow, line, today, settings.timezone))
        else:
            rest.append(line)
    result = "\n".join(rest).strip()
    return Parsed(free_text(result, RESULT_MAX, "minutes.result") if result else None, decisions, drafts)


async def submit_result(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> Walk | Record:
    """The result of the item the walk is at: it replaces what the item said; then the next item."""
    require_coordinator(coordinator, settings)
    minutes = await editable(uow, coordinator, steps.recall_id(coordinator, "minutes"), settings)
    item_id = steps.recall_id(coordinator, "item")
    index = next((i for i, item in enumerate(minutes.items) if item.id == item_id), None)
    if index is None:
        raise Refusal("buttons.stale").ending_step()
    item = minutes.items[index]
    parsed = await parse_result(uow, text, settings, now)
    item.result = parsed.result
    item.decisions = [MinutesDecision(text=t, position=n) for n, t in enumerate(parsed.decisions, 1)]
    await tasks.remove_drafts_of_item(uow, item.id)
    for draft in parsed.tasks:
        await tasks.add_draft(uow, draft, minutes.occurrence.meeting.group, minutes.occurrence, item, coordinator, now)
    minutes.updated_at = now
    await uow.flush()
    return await go(uow, coordinator, minutes.id, index + 1, settings)


async def start_adding(uow: UnitOfWork, coordinator: Person, minutes_id: int, settings: Settings) -> Minutes:
    """ "Punkt hinzufügen": the bot asks for the new item's title."""
    minutes = await editable(uow, coordinator, minutes_id, settings)
    steps.ask(coordinator, Step.MINUTES_TITLE, {"minutes": minutes.id})
    await uow.flush()
    return minutes


async def submit_title(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Walk:
    """The new item's title: appended, then its result is asked."""
    minutes = await editable(uow, coordinator, steps.recall_id(coordinator, "minutes"), settings)
    title = field_text(text, TITLE_MAX, "minutes.title")
    position = max((i.position for i in minutes.items), default=0) + 1
    minutes.items.append(MinutesItem(title=title, position=position, decisions=[]))
    minutes.updated_at = now
    await uow.flush()
    return await _walk(uow, coordinator, minutes, len(minutes.items) - 1)


async def record_of(uow: UnitOfWork, minutes: Minutes) -> Record:
    """Everything the minutes say: items, decisions, tasks, who was there, corrections."""
    items = list(minutes.items)
    by_item: dict[int, list[Task]] = defaultdict(list)
    for task in await uow.minutes.tasks_of(i.id for i in items):
        if task.minutes_item_id is not None:
            by_item[task.minutes_item_id].append(task)
    rows = await uow.minutes.attendance(minutes.occurrence_id)
    return Record(
        minutes,
        minutes.occurrence,
        items,
        dict(by_item),
        _attendees(rows, AttendanceStatus.PRESENT),
        _attendees(rows, AttendanceStatus.EXCUSED),
        list(await uow.minutes.corrections(minutes.id)),
    )


def _attendees(rows: Sequence[Attendance], status: AttendanceStatus) -> list[Attendee]:
    members: list[Attendee] = []
    guests: list[Attendee] = []
    for row in rows:
        if row.status is not status:
            continue
        if row.guest_name is not None:
            guests.append(Attendee(row.guest_name, row.organisation, guest=True))
        else:
            person = row.person
            name = name_of(person) if person is not None and person.telegram_id is not None else None
            deputy = name_of(row.deputy) if row.deputy is not None else None
            members.append(Attendee(name, row.organisation, deputy=deputy))
    members.sort(key=lambda a: (a.name is None, (a.name or "").casefold()))
    guests.sort(key=lambda a: (a.name or "").casefold())
    return members + guests


async def shown(uow: UnitOfWork, minutes_id: int) -> Record:
    """The minutes of a due delivery, for the timer (read once per run)."""
    minutes = await uow.minutes.get(minutes_id)
    if minutes is None:
        raise LookupError(f"minutes {minutes_id} are gone")
    return await record_of(uow, minutes)


async def minutes_of_delivery(uow: UnitOfWork, delivery_id: int, pending: dict[int, int]) -> int:
    """The minutes a due delivery is about (`pending`: the timer's map, read once per run)."""
    return pending.get(delivery_id) or await uow.minutes.of_delivery(delivery_id) or 0


async def approved_between(uow: UnitOfWork, start: datetime, end: datetime) -> list[Minutes]:
    """The approved minutes of the sessions held in [start, end) (the half-year of a
    report), with their session, items and decisions, in order of the sessions.
    By the session's time, not the approval's: minutes approved after the
    half-year still belong to its session."""
    return list(await uow.minutes.approved_of_sessions_between(start, end))
