"""What the agenda's use cases (`bot.core.agenda`) return, and how the agenda
and one item look to the person who asked.

Plain data, built from rows already loaded (only `item_view` counts an
item's place); the handlers render them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.agenda_order import agenda_closes
from bot.core.config import Settings
from bot.core.people import is_coordinator
from storage.agenda_repository import OPEN
from storage.models import AgendaItem, Group, Occurrence, Person
from storage.uow import UnitOfWork


@dataclass
class Placement:
    """A new item and where it went."""

    item: AgendaItem
    session: Occurrence | None
    number: int
    deadline: datetime | None = None
    """The session's agenda deadline, when it had passed: the item is late (`item.late`)."""
    decide: ItemView | None = None
    """A late item as the coordinators see it, with the buttons to accept or defer it."""
    coordinators: list[int] = field(default_factory=list)
    """Telegram ids of the coordinators to tell of a late item (not the author)."""


@dataclass
class SessionAgenda:
    occurrence: Occurrence
    items: list[AgendaItem]
    deadline: datetime | None
    """When members' new items stop going to this session (None: no deadline)."""
    deadline_passed: bool
    """New items of this viewer go to a later session (never for coordinators)."""
    running: bool


@dataclass
class GroupAgenda:
    group: Group
    sessions: list[SessionAgenda]
    waiting: list[AgendaItem]


@dataclass
class Overview:
    """The agendas `/agenda` shows to one person."""

    groups: list[GroupAgenda]
    viewer_id: int
    coordinator: bool

    def may_open(self, item: AgendaItem) -> bool:
        """Whether the viewer may act on the item (its card gets a button)."""
        return self.coordinator or item.author_id == self.viewer_id


@dataclass
class AskGroup:
    """The bot has to ask for the group (the item's text is held, if given)."""

    groups: list[Group]


@dataclass
class AskText:
    """The bot has to ask for the text of a new item for `group`."""

    group: Group


@dataclass
class ItemView:
    """An item as one person sees it: where it is, and what they may do with it."""

    item: AgendaItem
    number: int | None
    count: int
    may_edit: bool
    may_decide: bool
    first: bool
    last: bool


@dataclass
class Decision:
    view: ItemView
    told: bool
    """The author is owed a note about it."""
    reopened: bool = False
    """An accepted item was edited and is proposed again."""


def session_agenda(
    session: Occurrence, items: Sequence[AgendaItem], deadline: timedelta, coordinator: bool, now: datetime
) -> SessionAgenda:
    """One session's agenda (its open items, from `items`) as the viewer sees it."""
    closes = agenda_closes(session, deadline)
    return SessionAgenda(
        session,
        [i for i in items if i.occurrence_id == session.id],
        closes,
        closes is not None and not coordinator and now >= closes,
        session.starts_at <= now,
    )


def group_agenda(
    group: Group,
    sessions: Sequence[Occurrence],
    items: Sequence[AgendaItem],
    waiting: Sequence[AgendaItem],
    deadline: timedelta,
    coordinator: bool,
    now: datetime,
) -> GroupAgenda:
    """The group's sessions among `sessions`, each with its agenda, and its waiting items."""
    return GroupAgenda(
        group,
        [session_agenda(o, items, deadline, coordinator, now) for o in sessions if o.meeting.group_id == group.id],
        [i for i in waiting if i.group_id == group.id],
    )


async def item_view(uow: UnitOfWork, person: Person, item: AgendaItem, settings: Settings, now: datetime) -> ItemView:
    """The item as `person` sees it: its number if it is open, and whether they
    may edit it (its author, before its session starts) or decide on it (a
    coordinator)."""
    is_open = item.status in OPEN
    number, count = await uow.agenda.place(item) if is_open else (None, 0)
    started = item.occurrence is not None and item.occurrence.starts_at <= now
    return ItemView(
        item=item,
        number=number,
        count=count,
        may_edit=is_open and item.author_id == person.id and not started,
        may_decide=is_open and is_coordinator(person, settings),
        first=number == 1,
        last=number is not None and number == count,
    )


async def decider_view(uow: UnitOfWork, item: AgendaItem) -> ItemView:
    """The open item as a coordinator sees it (decides, does not edit): for the
    message that tells the coordinators of a late item."""
    number, count = await uow.agenda.place(item)
    return ItemView(item, number, count, False, True, number == 1, number == count)
